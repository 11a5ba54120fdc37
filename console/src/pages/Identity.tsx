// Identity: users, groups, managed policies and a user's effective rights, one tab each (the tab is
// the route: /identity/users, /identity/groups/NAME, …).
import { Tabs, Title } from '@mantine/core';
import { Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';
import { ExplainPage } from './identity/Explain';
import { GroupDetail, GroupsList } from './identity/Groups';
import { PoliciesList, PolicyEditor } from './identity/Policies';
import { UserDetail } from './identity/UserDetail';
import { UsersList } from './identity/Users';

const TABS = [
  { value: 'users', label: 'Users' },
  { value: 'groups', label: 'Groups' },
  { value: 'policies', label: 'Policies' },
  { value: 'explain', label: 'Effective rights' },
];

export function IdentityPage() {
  const { pathname } = useLocation();
  const navigate = useNavigate();
  const tab = pathname.split('/')[2] ?? 'users';
  return (
    <>
      <Title order={2} mb="md">
        Identity
      </Title>
      <Tabs value={tab} onChange={(v) => v && navigate(`/identity/${v}`)}>
        <Tabs.List aria-label="Identity sections">
          {TABS.map((t) => (
            <Tabs.Tab key={t.value} value={t.value}>
              {t.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        <Tabs.Panel value={tab} pt="md">
          <Routes>
            <Route path="users" element={<UsersList />} />
            <Route path="users/:name" element={<UserDetail />} />
            <Route path="groups" element={<GroupsList />} />
            <Route path="groups/:name" element={<GroupDetail />} />
            <Route path="policies" element={<PoliciesList />} />
            <Route path="policies/:name" element={<PolicyEditor />} />
            <Route path="explain" element={<ExplainPage />} />
            <Route path="*" element={<Navigate to="/identity/users" replace />} />
          </Routes>
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
