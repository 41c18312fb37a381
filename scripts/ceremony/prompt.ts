/**
 * Terminal input for ceremonies. Secrets (shares, PINs) are typed at a prompt with echo off on a
 * TTY; they are never arguments, environment variables or files. When stdin is not a TTY (a
 * pipe: tests, or a custodian's hardware token reader that types into a pipe) lines are read
 * from it in order, with nothing echoed.
 */
import { createInterface } from "node:readline";

export interface PromptStreams {
  readonly input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  readonly output: NodeJS.WritableStream;
}

export class PromptClosedError extends Error {
  constructor() {
    super("input closed");
    this.name = "PromptClosedError";
  }
}

export class Prompter {
  private readonly lines: string[] = [];
  private waiters: ((line: string | undefined) => void)[] = [];
  private ended = false;
  private readonly tty: boolean;
  private rl?: ReturnType<typeof createInterface>;

  constructor(private readonly streams: PromptStreams) {
    this.tty = Boolean(streams.input.isTTY && streams.input.setRawMode);
    if (!this.tty) {
      this.rl = createInterface({ input: streams.input, terminal: false, crlfDelay: Infinity });
      this.rl.on("line", (l) => {
        const w = this.waiters.shift();
        if (w) w(l);
        else this.lines.push(l);
      });
      this.rl.on("close", () => {
        this.ended = true;
        for (const w of this.waiters.splice(0)) w(undefined);
      });
    }
  }

  private nextLine(): Promise<string | undefined> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Reads one line from a TTY in raw mode, echoing '*' for secrets. Ctrl-C / Ctrl-D end input.
   *  Raw mode (no echo) is set before the question is shown: a custodian who starts typing as
   *  soon as the prompt appears must never have the terminal echo the share. */
  private ttyLine(question: string, secret: boolean): Promise<string | undefined> {
    const { input, output } = this.streams;
    return new Promise((resolve) => {
      let buf = "";
      input.setRawMode!(true);
      output.write(question);
      input.resume();
      const done = (v: string | undefined) => {
        input.removeListener("data", onData);
        input.setRawMode!(false);
        input.pause();
        output.write("\n");
        resolve(v);
      };
      const onData = (chunk: Buffer | string) => {
        for (const ch of chunk.toString("utf8")) {
          if (ch === "\r" || ch === "\n") return done(buf);
          if (ch === "\u0003" || ch === "\u0004") return done(undefined);
          if (ch === "\u007f" || ch === "\b") {
            if (buf.length > 0) {
              buf = buf.slice(0, -1);
              output.write("\b \b");
            }
          } else if (ch >= " ") {
            buf += ch;
            output.write(secret ? "*" : ch);
          }
        }
      };
      input.on("data", onData);
    });
  }

  /** Asks for a line shown as typed. undefined when input has ended. */
  async ask(question: string): Promise<string | undefined> {
    if (this.tty) return this.ttyLine(question, false);
    this.streams.output.write(question);
    const l = await this.nextLine();
    this.streams.output.write("\n");
    return l;
  }

  /** Asks for a secret: not echoed. undefined when input has ended. */
  async secret(question: string): Promise<string | undefined> {
    if (this.tty) return this.ttyLine(question, true);
    this.streams.output.write(question);
    const l = await this.nextLine();
    this.streams.output.write("\n");
    return l;
  }

  /** Writes a line to the screen. */
  say(text: string): void {
    this.streams.output.write(`${text}\n`);
  }

  /** Clears the screen (and its scroll-back) on a TTY, e.g. after a share was shown. */
  clearScreen(): void {
    if (this.tty) this.streams.output.write("\x1b[2J\x1b[3J\x1b[H");
  }

  get isTty(): boolean {
    return this.tty;
  }

  close(): void {
    this.rl?.close();
  }
}
