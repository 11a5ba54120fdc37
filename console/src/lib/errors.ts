// Anything thrown turned into an ApiError, so the page can always show a code and a message.
import { ApiError } from '../api/api';

export function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof Error) return new ApiError(err.name === 'TypeError' ? 'NetworkError' : err.name, err.message, 0);
  return new ApiError('Error', String(err), 0);
}
