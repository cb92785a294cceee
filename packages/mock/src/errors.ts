import { ClutchError as AnyClutchError, type ClutchErrorClass } from '@clutch/cluster/errors';

/** The error codes raised by @clutch/mock. Each is listed with its fix in docs/errors.md. */
export const MockErrorCode = {
  /** An egg-mock name the kit does not offer (the message names what to use instead). */
  NOT_PROVIDED: 'CLUTCH_ERR_NOT_PROVIDED',
  /** Something of the app was used before `await app.ready()` resolved. */
  NOT_READY: 'CLUTCH_ERR_MOCK_NOT_READY',
  /** `mockService`/`mockServiceError` named a service or a method the project does not have. */
  UNKNOWN_SERVICE: 'CLUTCH_ERR_MOCK_UNKNOWN_SERVICE',
  /** A mock helper was called with arguments it cannot take. */
  INVALID: 'CLUTCH_ERR_MOCK_INVALID',
} as const;

/** Every code @clutch/mock raises. */
export type MockErrorCode = (typeof MockErrorCode)[keyof typeof MockErrorCode];

/** The one ClutchError class of every package, taking only the mock kit's codes here. */
export const ClutchError: ClutchErrorClass<MockErrorCode> = AnyClutchError;
