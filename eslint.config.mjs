// ESLint 9 flat config: typescript-eslint's recommended rules (not the type-checked set, so a run stays
// fast on the shared machine) and eslint-config-prettier last, which turns off every rule Prettier owns
// (formatting is Prettier's job: `npm run format`).
// @ts-check
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

/**
 * Which top-level folder may import which (docs/architecture.md, "Where the code is"). Paths are resolved,
 * so `../../infra/x` from app/ is caught however deep the importer sits. Exported for test/lint/.
 */
export const BOUNDARY_ZONES = [
  {
    target: "./app",
    from: ["./infra", "./policies", "./preview", "./harness", "./drills", "./bench", "./scripts", "./test"],
    message: "app/ is the service: it imports only itself and its npm dependencies.",
  },
  {
    target: "./infra",
    from: ["./app", "./policies", "./preview", "./harness", "./drills", "./bench", "./scripts", "./test"],
    message: "infra/ is the Pulumi program: it never imports the app, the policy pack, the offline engine or the harness.",
  },
  {
    target: "./policies",
    from: ["./preview", "./app", "./harness", "./drills", "./bench", "./scripts", "./test"],
    message: "policies/ is the pack the Pulumi CLI loads: the offline engine (preview/) imports it, never the reverse.",
  },
  {
    target: ["./app", "./infra", "./policies", "./preview", "./harness", "./drills", "./bench", "./scripts"],
    from: "./test",
    message: "Only tests import test code (harness/, drills/ and bench/ are libraries the tests use).",
  },
  {
    target: ".",
    from: "./scripts",
    message: "scripts/ holds command-line entry points only: import the library it runs (preview/, harness/, drills/, ...).",
  },
];

export default tseslint.config(
  // test/lint/fixtures/ break the house rules on purpose (test/lint/house-rules.test.ts lints them itself).
  { ignores: ["**/node_modules/", "**/dist/", "coverage/", ".pulumi/", "test/lint/fixtures/"] },
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
    // The house rules the linter keeps: no file over 400 lines, no import circle, folder directions.
    files: ["**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/extensions": [".ts", ".js"],
      "import-x/external-module-folders": ["node_modules", "node_modules/@types"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".js", ".json"] })],
    },
    rules: {
      "max-lines": ["error", { max: 400 }],
      // Type-only imports are erased at compile time and are not followed (import-x's rule skips them).
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "import-x/no-restricted-paths": ["error", { basePath: import.meta.dirname, zones: BOUNDARY_ZONES }],
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
