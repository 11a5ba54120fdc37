// A list page of the identity section: a sentence saying what the entities are, a create button,
// then a table of them (the first column a link to each one's page), with the load error, a loader
// and an empty row handled.
import { Anchor, Button, Group, Loader, Paper, Table, Text } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import type { Loaded } from '../lib/use-load';
import { ErrorAlert } from './ErrorAlert';

export interface Column<T> {
  title: string;
  cell: (row: T) => ReactNode;
}

export function EntityTable<T extends { name: string }>({
  label,
  intro,
  create,
  list,
  linkTo,
  nameExtra,
  columns,
  empty,
}: {
  /** The table's accessible name, and what the loader says it loads. */
  label: string;
  intro: string;
  /** The create button: its text and either a route or a handler. */
  create: { label: string; to?: string; onClick?: () => void };
  list: Loaded<T[]>;
  linkTo: (name: string) => string;
  /** Shown after the name link (a badge). */
  nameExtra?: (row: T) => ReactNode;
  columns: Column<T>[];
  empty: string;
}) {
  const button = create.to ? (
    <Button component={Link} to={create.to} leftSection={<IconPlus size={16} />}>
      {create.label}
    </Button>
  ) : (
    <Button leftSection={<IconPlus size={16} />} onClick={create.onClick}>
      {create.label}
    </Button>
  );
  return (
    <>
      <Group justify="space-between" mb="sm">
        <Text size="sm" c="dimmed">
          {intro}
        </Text>
        {button}
      </Group>
      <ErrorAlert error={list.error} />
      {list.loading && !list.data && <Loader aria-label={`Loading ${label.toLowerCase()}`} />}
      {list.data && (
        <Paper withBorder>
          <Table striped highlightOnHover aria-label={label}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Name</Table.Th>
                {columns.map((c) => (
                  <Table.Th key={c.title} scope="col">
                    {c.title}
                  </Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.length === 0 && (
                <Table.Tr>
                  <Table.Td colSpan={columns.length + 1}>
                    <Text c="dimmed">{empty}</Text>
                  </Table.Td>
                </Table.Tr>
              )}
              {list.data.map((row) => (
                <Table.Tr key={row.name}>
                  <Table.Td>
                    <Anchor component={Link} to={linkTo(row.name)}>
                      {row.name}
                    </Anchor>
                    {nameExtra?.(row)}
                  </Table.Td>
                  {columns.map((c) => (
                    <Table.Td key={c.title}>{c.cell(row)}</Table.Td>
                  ))}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}
    </>
  );
}
