// The rows of one listing page: folders (common prefixes) first, then objects, sortable by name,
// size or date within the page, with a checkbox per row for the bulk actions and a menu of the
// actions on one object. Every control is a real button or link with a label.
import { ActionIcon, Anchor, Checkbox, Group, Menu, Table, Text, UnstyledButton, VisuallyHidden } from '@mantine/core';
import {
  IconArrowsSort,
  IconDots,
  IconDownload,
  IconEye,
  IconFile,
  IconFileZip,
  IconFolder,
  IconHistory,
  IconShare,
  IconSortAscending,
  IconSortDescending,
  IconTrash,
} from '@tabler/icons-react';
import { Link } from 'react-router';
import type { ObjectEntry } from '../../api/s3';
import { formatBytes, formatDate } from '../../lib/format';
import { browsePath, leafName } from './paths';

export type SortKey = 'name' | 'size' | 'date';
export interface Sort {
  by: SortKey;
  desc: boolean;
}

export type ObjectAction = 'preview' | 'download' | 'share' | 'versions' | 'delete';
export type FolderAction = 'zip' | 'delete';

export function sortObjects(objects: ObjectEntry[], sort: Sort): ObjectEntry[] {
  const out = [...objects];
  const cmp =
    sort.by === 'size'
      ? (a: ObjectEntry, b: ObjectEntry) => a.size - b.size
      : sort.by === 'date'
        ? (a: ObjectEntry, b: ObjectEntry) => a.lastModified.localeCompare(b.lastModified)
        : (a: ObjectEntry, b: ObjectEntry) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  out.sort((a, b) => (sort.desc ? -cmp(a, b) : cmp(a, b)) || (a.key < b.key ? -1 : 1));
  return out;
}

interface Props {
  bucket: string;
  prefix: string;
  folders: string[];
  objects: ObjectEntry[];
  sort: Sort;
  onSort: (s: Sort) => void;
  selected: Set<string>;
  onSelect: (ids: string[], on: boolean) => void;
  onObject: (action: ObjectAction, o: ObjectEntry) => void;
  onFolder: (action: FolderAction, prefix: string) => void;
}

function SortHeader({ label, by, sort, onSort }: { label: string; by: SortKey; sort: Sort; onSort: (s: Sort) => void }) {
  const active = sort.by === by;
  const Icon = !active ? IconArrowsSort : sort.desc ? IconSortDescending : IconSortAscending;
  return (
    <Table.Th aria-sort={active ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
      <UnstyledButton onClick={() => onSort({ by, desc: active ? !sort.desc : false })} aria-label={`Sort by ${label.toLowerCase()}`}>
        <Group gap={4} wrap="nowrap">
          <Text fw={600} size="sm">
            {label}
          </Text>
          <Icon size={14} aria-hidden />
        </Group>
      </UnstyledButton>
    </Table.Th>
  );
}

export function ObjectTable(props: Props) {
  const { bucket, prefix, folders, objects, sort, onSort, selected, onSelect, onObject, onFolder } = props;
  const sortedFolders = sort.by === 'name' && sort.desc ? [...folders].reverse() : folders;
  const sorted = sortObjects(objects, sort);
  const allIds = [...folders, ...sorted.map((o) => o.key)];
  const selectedHere = allIds.filter((id) => selected.has(id)).length;
  return (
    <Table highlightOnHover stickyHeader verticalSpacing={6} aria-label="Objects" data-testid="object-table">
      <Table.Thead>
        <Table.Tr>
          <Table.Th w={40}>
            <Checkbox
              aria-label="Select all on this page"
              checked={allIds.length > 0 && selectedHere === allIds.length}
              indeterminate={selectedHere > 0 && selectedHere < allIds.length}
              onChange={(e) => onSelect(allIds, e.currentTarget.checked)}
            />
          </Table.Th>
          <SortHeader label="Name" by="name" sort={sort} onSort={onSort} />
          <SortHeader label="Size" by="size" sort={sort} onSort={onSort} />
          <SortHeader label="Last modified" by="date" sort={sort} onSort={onSort} />
          <Table.Th w={56}>
            <VisuallyHidden>Actions</VisuallyHidden>
          </Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {sortedFolders.map((f) => {
          const name = leafName(f, prefix);
          return (
            <Table.Tr key={`d:${f}`} data-testid="folder-row">
              <Table.Td>
                <Checkbox aria-label={`Select folder ${name}`} checked={selected.has(f)} onChange={(e) => onSelect([f], e.currentTarget.checked)} />
              </Table.Td>
              <Table.Td>
                <Anchor component={Link} to={browsePath(bucket, f)} aria-label={`Open folder ${name}`}>
                  <Group gap={6} wrap="nowrap">
                    <IconFolder size={18} aria-hidden />
                    <span style={{ wordBreak: 'break-all', textAlign: 'left' }}>{name}</span>
                  </Group>
                </Anchor>
              </Table.Td>
              <Table.Td>
                <Text size="sm" c="dimmed">
                  folder
                </Text>
              </Table.Td>
              <Table.Td />
              <Table.Td>
                <Menu position="bottom-end" withinPortal>
                  <Menu.Target>
                    <ActionIcon variant="subtle" aria-label={`Actions for folder ${name}`}>
                      <IconDots size={18} />
                    </ActionIcon>
                  </Menu.Target>
                  <Menu.Dropdown>
                    <Menu.Item leftSection={<IconFileZip size={16} />} onClick={() => onFolder('zip', f)}>
                      Download as zip
                    </Menu.Item>
                    <Menu.Item color="red" leftSection={<IconTrash size={16} />} onClick={() => onFolder('delete', f)}>
                      Delete folder
                    </Menu.Item>
                  </Menu.Dropdown>
                </Menu>
              </Table.Td>
            </Table.Tr>
          );
        })}
        {sorted.map((o) => {
          const name = leafName(o.key, prefix) || o.key;
          return (
            <Table.Tr key={`o:${o.key}`} data-testid="object-row" data-key={o.key}>
              <Table.Td>
                <Checkbox aria-label={`Select ${name}`} checked={selected.has(o.key)} onChange={(e) => onSelect([o.key], e.currentTarget.checked)} />
              </Table.Td>
              <Table.Td>
                <Anchor component="button" type="button" onClick={() => onObject('preview', o)} aria-label={`Preview ${name}`}>
                  <Group gap={6} wrap="nowrap">
                    <IconFile size={18} aria-hidden />
                    <span style={{ wordBreak: 'break-all', textAlign: 'left' }}>{name}</span>
                  </Group>
                </Anchor>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{formatBytes(o.size)}</Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{formatDate(o.lastModified)}</Text>
              </Table.Td>
              <Table.Td>
                <Menu position="bottom-end" withinPortal>
                  <Menu.Target>
                    <ActionIcon variant="subtle" aria-label={`Actions for ${name}`}>
                      <IconDots size={18} />
                    </ActionIcon>
                  </Menu.Target>
                  <Menu.Dropdown>
                    <Menu.Item leftSection={<IconEye size={16} />} onClick={() => onObject('preview', o)}>
                      Preview
                    </Menu.Item>
                    <Menu.Item leftSection={<IconDownload size={16} />} onClick={() => onObject('download', o)}>
                      Download
                    </Menu.Item>
                    <Menu.Item leftSection={<IconShare size={16} />} onClick={() => onObject('share', o)}>
                      Share link
                    </Menu.Item>
                    <Menu.Item leftSection={<IconHistory size={16} />} onClick={() => onObject('versions', o)}>
                      Versions
                    </Menu.Item>
                    <Menu.Item color="red" leftSection={<IconTrash size={16} />} onClick={() => onObject('delete', o)}>
                      Delete
                    </Menu.Item>
                  </Menu.Dropdown>
                </Menu>
              </Table.Td>
            </Table.Tr>
          );
        })}
      </Table.Tbody>
    </Table>
  );
}
