// ESLint 9 flat config: typescript-eslint's recommended rules (not the type-checked set, so a run stays
// fast on the shared machine) and eslint-config-prettier last, which turns off every rule Prettier owns
// (formatting is Prettier's job: `npm run format`).
// @ts-check
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/", "**/dist/", "coverage/", ".pulumi/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      // Unused names starting with _ are deliberate (a callback's position, a destructured remainder).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
    },
  },
  {
    rules: {
      // Off: where a regular expression names control characters, matching them is the point (refusing them
      // in room names, stripping terminal colour codes from CLI output).
      "no-control-regex": "off",
    },
  },
  {
    files: ["test/**/*.ts"],
    rules: {
      // Off in tests: they read JSON answers, stack configs and engine payloads loosely; typing every one of
      // them (about 70 places) would be a rewrite for no gain in what the tests check.
      "@typescript-eslint/no-explicit-any": "off",
      // Off in tests: expected CLI output is written as it prints, aligned columns included.
      "no-regex-spaces": "off",
      // Off in tests: untyped runtime internals of the Pulumi SDKs are loaded with require.resolve paths.
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  {
    files: ["**/*.js"],
    languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly" } },
  },
  prettier,
);
