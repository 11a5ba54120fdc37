// Runs an admin action from a page: its error kept for an ErrorAlert, a notification on success,
// then the page's data reloaded; or a confirmed delete that then leaves the deleted entity's page.
import { notifications } from '@mantine/notifications';
import { useCallback, useState } from 'react';
import { useNavigate } from 'react-router';
import { confirmDanger } from './confirm';
import type { ApiError } from '../api/api';
import { asApiError } from './errors';

/** A delete from an entity's page: the confirmation's title, text and button, the call, the notice, where to go after. */
export interface RemoveAndLeave {
  title: string;
  text: string;
  confirm: string;
  remove: () => Promise<unknown>;
  done: string;
  to: string;
}

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
  const navigate = useNavigate();
  /** Asks for confirmation, deletes, then leaves for `to` (the list the entity was in). */
  const removeAndLeave = useCallback(
    async (what: RemoveAndLeave) => {
      if (!(await confirmDanger(what.title, what.text, what.confirm))) return;
      setError(undefined);
      try {
        await what.remove();
        notifications.show({ color: 'teal', message: what.done });
        navigate(what.to);
      } catch (err) {
        setError(asApiError(err));
      }
    },
    [navigate],
  );
  return { error, setError, act, removeAndLeave };
}
