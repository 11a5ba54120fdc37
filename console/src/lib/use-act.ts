// Runs an admin action from a page: its error kept for an ErrorAlert, a notification on success,
// then the page's data reloaded.
import { notifications } from '@mantine/notifications';
import { useCallback, useState } from 'react';
import type { ApiError } from '../api/api';
import { asApiError } from './errors';

export function useAct(reload: () => void) {
  const [error, setError] = useState<ApiError | undefined>();
  const act = useCallback(
    async (fn: () => Promise<unknown>, done: string): Promise<boolean> => {
      setError(undefined);
      try {
        await fn();
        notifications.show({ color: 'teal', message: done });
        reload();
        return true;
      } catch (err) {
        setError(asApiError(err));
        return false;
      }
    },
    [reload],
  );
  return { error, setError, act };
}
