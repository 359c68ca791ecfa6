/** `renameCollection` on admin with full namespaces. */
import type { Document } from 'bson';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions } from './operation';

export interface RenameOptions extends BaseOperationOptions {
  dropTarget?: boolean;
}

const RENAME_ASPECTS = aspects(Aspect.WRITE_OPERATION);

export class RenameOperation extends CommandOperation<void> {
  readonly commandName = 'renameCollection';

  constructor(
    private readonly from: string,
    private readonly to: string,
    private readonly renameOptions: RenameOptions
  ) {
    super('admin', renameOptions);
  }

  get aspects() {
    return RENAME_ASPECTS;
  }

  buildCommand(): Document {
    return { renameCollection: this.from, to: this.to, dropTarget: this.renameOptions.dropTarget === true };
  }

  override handleReply(): void {
    return undefined;
  }
}
