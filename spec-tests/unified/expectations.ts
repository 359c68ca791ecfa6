/** Pure checks of a test's expectations (events, log messages, errors) against what was observed. */
export * from './observed';
export { checkExpectedEvents, matchEvent, eventTypeOf, isNonEmptyObjectId, type ExpectedEventsForClient } from './expect-events';
export {
  checkExpectedLogMessages,
  matchLogMessage,
  isRedactedFailure,
  type ExpectedLogMessage,
  type ExpectedLogMessagesForClient
} from './expect-log-messages';
export { checkExpectedError, type ExpectedError } from './expect-error';
