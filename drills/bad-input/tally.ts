/** The answers a barrage got, per category of input, and each kind of unexpected answer with an example. */
const EXAMPLES = 20;

export class Tally {
  readonly categories = new Map<string, Map<string, number>>();
  unexpected = 0;
  /** One example per unexpected (category, answer), with how often it happened. */
  private readonly unexpectedKinds = new Map<string, { count: number; example: string }>();

  record(category: string, answer: string, expected: boolean, detail?: string): void {
    const answers = this.categories.get(category) ?? new Map<string, number>();
    answers.set(answer, (answers.get(answer) ?? 0) + 1);
    this.categories.set(category, answers);
    if (!expected) {
      this.unexpected++;
      const key = `${category}: ${answer}`;
      const kind = this.unexpectedKinds.get(key) ?? { count: 0, example: (detail ?? "").replace(/\s+/g, " ").slice(0, 200) };
      kind.count++;
      this.unexpectedKinds.set(key, kind);
    }
  }

  examples(): string[] {
    return [...this.unexpectedKinds]
      .slice(0, EXAMPLES)
      .map(([key, { count, example }]) => `${key} ×${count}${example ? ` (e.g. ${example})` : ""}`);
  }
}
