/**
 * Imported (for its effect) by the CLI modules that parse definitions, exception and ceremony
 * files. A CLI run parses each file once: compiling zod's fast parsers (its JIT) costs more than
 * it saves here (≈ 40 ms of the four environments' parse).
 */
import { config } from "zod";

config({ jitless: true });
