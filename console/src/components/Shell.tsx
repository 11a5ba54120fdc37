// The frame around every page once logged in: header (who, theme switch, logout) and navigation.
import { ActionIcon, AppShell, Burger, Group, NavLink, Text, Title, Tooltip } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconBucket, IconGauge, IconLogout, IconUsers } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { Link, useLocation } from 'react-router';
import { useSession } from '../session';
import { ThemeToggle } from './ThemeToggle';

const NAV = [
  { to: '/', label: 'Dashboard', icon: IconGauge, match: (p: string) => p === '/' },
  { to: '/buckets', label: 'Buckets', icon: IconBucket, match: (p: string) => p.startsWith('/buckets') || p.startsWith('/browse') },
  { to: '/identity/users', label: 'Identity', icon: IconUsers, match: (p: string) => p.startsWith('/identity') },
];

export function Shell({ children }: { children: ReactNode }) {
  const [opened, { toggle, close }] = useDisclosure();
  const { info, logout } = useSession();
  const { pathname } = useLocation();
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      {/* The router owns the hash, so a button moves focus to the content rather than a #main link. */}
      <button type="button" className="skip-link" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group>
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={1} size="h3">
              Strata
            </Title>
          </Group>
          <Group gap="xs">
            <Text size="sm" c="dimmed" data-testid="whoami" title={info?.arn}>
              {info?.kind === 'root' ? 'root' : info?.user} ({info?.accessKeyId})
            </Text>
            <ThemeToggle />
            <Tooltip label="Log out">
              <ActionIcon variant="default" size="lg" aria-label="Log out" onClick={() => void logout()}>
                <IconLogout size={18} />
              </ActionIcon>
            </Tooltip>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation">
        {NAV.map((n) => (
          <NavLink
            key={n.to}
            component={Link}
            to={n.to}
            label={n.label}
            leftSection={<n.icon size={18} />}
            active={n.match(pathname)}
            aria-current={n.match(pathname) ? 'page' : undefined}
            onClick={close}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1} style={{ outline: 'none' }}>
        {children}
      </AppShell.Main>
    </AppShell>
  );
}
