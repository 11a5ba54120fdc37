// Who is logged in: the session the server issued (GET /api/session), shared through React context.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { onSessionLost, session as sessionApi, type SessionInfo } from './api/api';

interface SessionState {
  /** undefined while the first check runs; null when nobody is logged in. */
  info: SessionInfo | null | undefined;
  /** True when the session ended under the user (expired, key or user disabled): the login page says so. */
  lost: boolean;
  login: (accessKeyId: string, secret: string, token?: string) => Promise<void>;
  logout: () => Promise<void>;
}

const SessionContext = createContext<SessionState | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [info, setInfo] = useState<SessionInfo | null | undefined>(undefined);
  const [lost, setLost] = useState(false);
  useEffect(() => {
    sessionApi.current().then(setInfo, () => setInfo(null));
    return onSessionLost(() => {
      setInfo(null);
      setLost(true);
    });
  }, []);
  const login = useCallback(async (accessKeyId: string, secret: string, token?: string) => {
    setInfo(await sessionApi.login(accessKeyId, secret, token));
    setLost(false);
  }, []);
  const logout = useCallback(async () => {
    await sessionApi.logout().catch(() => undefined);
    setInfo(null);
    setLost(false);
  }, []);
  return <SessionContext.Provider value={{ info, lost, login, logout }}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}
