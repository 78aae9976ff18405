/** FailoverJournal implementations: in memory (tests, dry runs) and a JSON file (the local cluster, a volume in the cloud). */
import fs from "node:fs/promises";
import path from "node:path";
import type { FailoverJournal, FailoverRecord } from "./types";

export class MemoryJournal implements FailoverJournal {
  private record: FailoverRecord | undefined;

  constructor(initial?: FailoverRecord) {
    this.record = initial === undefined ? undefined : structuredClone(initial);
  }

  async read(): Promise<FailoverRecord | undefined> {
    return this.record === undefined ? undefined : structuredClone(this.record);
  }

  async write(record: FailoverRecord): Promise<void> {
    this.record = structuredClone(record);
  }
}

/** A JSON file, replaced atomically (write to a temporary file, then rename) so a crash never leaves half a record. */
export class FileJournal implements FailoverJournal {
  constructor(readonly file: string) {}

  async read(): Promise<FailoverRecord | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    try {
      return JSON.parse(text) as FailoverRecord;
    } catch (error) {
      throw new Error(`failover journal ${this.file} is not valid JSON: ${(error as Error).message}`);
    }
  }

  async write(record: FailoverRecord): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    await fs.writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`);
    await fs.rename(temporary, this.file);
  }
}
