/**
 * The one error a construct throws when it is given something it cannot build (as aws-cdk's
 * `ValidationError`): the message says what is wrong, `constructPath` says where in the tree.
 * The printed message starts with the path (`production/lanic/ra: …`), so every construct error
 * names its place the same way (docs/adr/0057).
 */
import type { IConstruct } from "constructs";

export class ConstructError extends Error {
  /** The construct at fault, e.g. `production/lanic/issuing-ca-1`. */
  readonly constructPath: string;

  constructor(message: string, scope: IConstruct) {
    super(`${scope.node.path}: ${message}`);
    this.name = "ConstructError";
    this.constructPath = scope.node.path;
  }
}
