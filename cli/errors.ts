/** An error whose message is the whole story (printed without a stack trace, exit 1). */
export class CliError extends Error {}
