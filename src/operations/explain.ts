/** `{explain: <command>, verbosity}` for find and aggregate cursors. */
import type { Document } from 'bson';
import { MongoInvalidArgumentError } from '../errors';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions } from './operation';

export type ExplainVerbosity = 'queryPlanner' | 'queryPlannerExtended' | 'executionStats' | 'allPlansExecution';
/** `true` = allPlansExecution, `false` = queryPlanner (as the official driver). */
export type ExplainVerbosityLike = ExplainVerbosity | boolean;

export function explainVerbosity(value: ExplainVerbosityLike | undefined): ExplainVerbosity {
  if (value === undefined || value === true) return 'allPlansExecution';
  if (value === false) return 'queryPlanner';
  if (['queryPlanner', 'queryPlannerExtended', 'executionStats', 'allPlansExecution'].includes(value)) return value;
  throw new MongoInvalidArgumentError(`Invalid explain verbosity: ${String(value)}`);
}

const EXPLAIN_ASPECTS = aspects(Aspect.READ_OPERATION, Aspect.RETRYABLE);

export class ExplainOperation extends CommandOperation<Document> {
  readonly commandName = 'explain';

  constructor(
    db: string,
    private readonly explained: Document,
    private readonly verbosity: ExplainVerbosity,
    options: BaseOperationOptions
  ) {
    super(db, { ...options, comment: undefined });
  }

  get aspects() {
    return EXPLAIN_ASPECTS;
  }

  /** The explained command may carry its own readConcern; the explain wrapper does not. */
  override get supportsReadConcern(): boolean {
    return false;
  }

  buildCommand(): Document {
    return { explain: this.explained, verbosity: this.verbosity };
  }
}
