// The object browser: route #/browse/<bucket>/<prefix> (the folder in the path, so links and
// reloads land in the same place). One ListObjectsV2 page at a time (delimiter '/'), a prefix search
// inside the folder, sort within the page, uploads, previews, share links, versions, zip downloads
// and deletes of one or many.
import { Anchor, Breadcrumbs, Button, Group, Loader, NativeSelect, Stack, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { modals } from '@mantine/modals';
import { notifications } from '@mantine/notifications';
import { IconChevronLeft, IconChevronRight, IconFileZip, IconRefresh, IconSearch, IconTrash } from '@tabler/icons-react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { deleteMany, deleteOne, deletePrefix, downloadFolder, downloadObject } from '../api/objects';
import type { ObjectEntry } from '../api/s3';
import { UploadQueue } from '../api/upload';
import { browsePath } from '../components/browser/paths';
import { ObjectTable, type FolderAction, type ObjectAction, type Sort } from '../components/browser/ObjectTable';
import { PreviewModal } from '../components/browser/PreviewModal';
import { ShareModal } from '../components/browser/ShareModal';
import { UploadButtons, UploadPanel } from '../components/browser/UploadPanel';
import { useListing } from '../components/browser/useListing';
import { VersionsDrawer } from '../components/browser/VersionsDrawer';
import { ErrorAlert } from '../components/ErrorAlert';
import { asApiError } from '../lib/errors';

/** One queue for the whole app: uploads go on while the user browses elsewhere. */
const uploads = new UploadQueue();

const showError = (e: unknown) => {
  const err = asApiError(e);
  notifications.show({ color: 'red', title: err.code, message: err.message, autoClose: 10_000 });
};

function PathCrumbs({ bucket, prefix }: { bucket: string; prefix: string }) {
  const parts = prefix.split('/').filter((p, i, all) => i < all.length - 1 || p !== '');
  return (
    <Breadcrumbs aria-label="Folder path" separatorMargin={4}>
      <Anchor component={Link} to={browsePath(bucket, '')}>
        {bucket}
      </Anchor>
      {parts.map((p, i) => {
        const to = `${parts.slice(0, i + 1).join('/')}/`;
        return i === parts.length - 1 ? (
          <Text key={to} aria-current="page">
            {p}
          </Text>
        ) : (
          <Anchor key={to} component={Link} to={browsePath(bucket, to)}>
            {p}
          </Anchor>
        );
      })}
    </Breadcrumbs>
  );
}

export function BrowserPage() {
  const params = useParams();
  const bucket = params['bucket'] ?? '';
  const splat = params['*'] ?? '';
  const prefix = splat === '' || splat.endsWith('/') ? splat : `${splat}/`;

  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search, 300);
  const [pageSize, setPageSize] = useState('200');
  const [sort, setSort] = useState<Sort>({ by: 'name', desc: false });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [preview, setPreview] = useState<{ key: string; versionId?: string } | undefined>();
  const [share, setShare] = useState<string | undefined>();
  const [versionsOf, setVersionsOf] = useState<string | undefined>();
  const [busy, setBusy] = useState<string | undefined>();

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new folder clears the search and selection
  useEffect(() => {
    setSearch('');
    setSelected(new Set());
  }, [bucket, prefix]);

  const listing = useListing(bucket, prefix + debounced, Number(pageSize));
  const { reload } = listing;

  // Finished uploads show up in the listing (at most one reload a second).
  const reloadTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    uploads.onFileDone = () => {
      if (reloadTimer.current) return;
      reloadTimer.current = setTimeout(() => {
        reloadTimer.current = undefined;
        reload();
      }, 1000);
    };
    return () => {
      uploads.onFileDone = undefined;
      clearTimeout(reloadTimer.current);
      reloadTimer.current = undefined;
    };
  }, [reload]);

  const folders = listing.page?.folders ?? [];
  // Without the folder's own marker object (a zero-byte key equal to the prefix): it is the folder.
  const objects = useMemo(() => (listing.page?.objects ?? []).filter((o) => o.key !== prefix || prefix === ''), [listing.page, prefix]);
  const objectsByKey = useMemo(() => new Map(objects.map((o) => [o.key, o])), [objects]);

  const onSelect = useCallback((ids: string[], on: boolean) => {
    setSelected((s) => {
      const n = new Set(s);
      for (const id of ids) on ? n.add(id) : n.delete(id);
      return n;
    });
  }, []);

  const zip = async (p: string) => {
    try {
      await downloadFolder(bucket, p);
      notifications.show({ autoClose: 4000, color: 'green', title: 'Zip download started', message: `${p || bucket} (your browser shows its progress)` });
    } catch (e) {
      showError(e);
    }
  };

  /** Deletes objects and whole folders (every key under them, page by page), after a confirmation. */
  const confirmDelete = (keys: string[], prefixes: string[]) => {
    const what = [
      keys.length ? `${keys.length} object${keys.length === 1 ? '' : 's'}` : '',
      prefixes.length ? `${prefixes.length} folder${prefixes.length === 1 ? '' : 's'} with everything in them` : '',
    ]
      .filter(Boolean)
      .join(' and ');
    modals.openConfirmModal({
      title: 'Delete?',
      children: <Text size="sm">Delete {what}? In a versioned bucket this adds delete markers (the versions stay); otherwise the data is gone.</Text>,
      labels: { confirm: 'Delete', cancel: 'Cancel' },
      confirmProps: { color: 'red', 'aria-label': 'Confirm delete' },
      onConfirm: () => {
        void (async () => {
          setBusy('Deleting…');
          try {
            const failures =
              keys.length === 1 && prefixes.length === 0
                ? await deleteOne(bucket, keys[0]!).then(() => [])
                : await deleteMany(
                    bucket,
                    keys.map((key) => ({ key })),
                  );
            for (const p of prefixes) failures.push(...(await deletePrefix(bucket, p, (n) => setBusy(`Deleting… ${n} objects`))));
            if (failures.length > 0) {
              notifications.show({
                color: 'red',
                title: `${failures.length} not deleted`,
                message: failures
                  .slice(0, 5)
                  .map((f) => `${f.key}: ${f.code} ${f.message}`)
                  .join('\n'),
                autoClose: 15_000,
              });
            } else notifications.show({ color: 'green', message: `Deleted ${what}` });
          } catch (e) {
            showError(e);
          } finally {
            setBusy(undefined);
            setSelected(new Set());
            reload();
          }
        })();
      },
    });
  };

  const onObject = (action: ObjectAction, o: ObjectEntry) => {
    if (action === 'preview') setPreview({ key: o.key });
    else if (action === 'share') setShare(o.key);
    else if (action === 'versions') setVersionsOf(o.key);
    else if (action === 'delete') confirmDelete([o.key], []);
    else void downloadObject(bucket, o.key).catch(showError);
  };
  const onFolder = (action: FolderAction, p: string) => (action === 'zip' ? void zip(p) : confirmDelete([], [p]));

  // Folders are common prefixes (they end with the delimiter); a selection may span pages.
  const isFolder = (id: string) => !objectsByKey.has(id) && id.endsWith('/');
  const selectedKeys = [...selected].filter((id) => !isFolder(id));
  const selectedFolders = [...selected].filter(isFolder);

  return (
    <Stack gap="sm">
      <Group justify="space-between" wrap="wrap">
        <Stack gap={2}>
          <Title order={2}>Browse</Title>
          <PathCrumbs bucket={bucket} prefix={prefix} />
        </Stack>
        <Group gap="xs">
          <UploadButtons onFiles={(files) => uploads.add(bucket, prefix, files)} />
          <Button variant="default" leftSection={<IconFileZip size={16} />} onClick={() => void zip(prefix)}>
            Download folder
          </Button>
        </Group>
      </Group>

      <UploadPanel queue={uploads} />

      <Group gap="xs" align="flex-end" wrap="wrap">
        <TextInput
          label="Search by prefix in this folder"
          placeholder="name starts with…"
          leftSection={<IconSearch size={16} />}
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          w={320}
        />
        <NativeSelect label="Per page" data={['100', '200', '500', '1000']} value={pageSize} onChange={(e) => setPageSize(e.currentTarget.value)} w={100} />
        <Button variant="default" leftSection={<IconRefresh size={16} />} onClick={reload} aria-label="Refresh listing">
          Refresh
        </Button>
        {selected.size > 0 && (
          <>
            <Button color="red" variant="light" leftSection={<IconTrash size={16} />} onClick={() => confirmDelete(selectedKeys, selectedFolders)}>
              Delete {selected.size} selected
            </Button>
            <Button variant="subtle" onClick={() => setSelected(new Set())}>
              Clear selection
            </Button>
          </>
        )}
        {busy && (
          <Group gap={6}>
            <Loader size="xs" aria-hidden />
            <Text size="sm" role="status">
              {busy}
            </Text>
          </Group>
        )}
      </Group>

      <ErrorAlert error={listing.error} />
      {!listing.error && (
        <>
          <ObjectTable
            bucket={bucket}
            prefix={prefix}
            folders={folders}
            objects={objects}
            sort={sort}
            onSort={setSort}
            selected={selected}
            onSelect={onSelect}
            onObject={onObject}
            onFolder={onFolder}
          />
          {!listing.loading && folders.length === 0 && objects.length === 0 && (
            <Text c="dimmed" ta="center" py="lg">
              {debounced ? `Nothing here starts with “${debounced}”.` : 'This folder is empty. Drop files here or use Upload.'}
            </Text>
          )}
        </>
      )}

      <Group justify="space-between">
        <Text size="sm" c="dimmed" data-testid="page-info" role="status">
          {listing.loading ? 'Loading…' : `Page ${listing.pageNumber}: ${folders.length} folders, ${objects.length} objects`}
          {sort.by !== 'name' || sort.desc ? ' · sorted within this page (S3 lists in key order)' : ''}
        </Text>
        <Group gap="xs">
          <Button variant="default" leftSection={<IconChevronLeft size={16} />} disabled={!listing.hasPrevious || listing.loading} onClick={listing.previous}>
            Previous page
          </Button>
          <Button variant="default" rightSection={<IconChevronRight size={16} />} disabled={!listing.hasNext || listing.loading} onClick={listing.next}>
            Next page
          </Button>
        </Group>
      </Group>

      <PreviewModal bucket={bucket} objectKey={preview?.key} versionId={preview?.versionId} onClose={() => setPreview(undefined)} />
      <ShareModal bucket={bucket} objectKey={share} onClose={() => setShare(undefined)} />
      <VersionsDrawer
        bucket={bucket}
        objectKey={versionsOf}
        onClose={() => setVersionsOf(undefined)}
        onPreview={(key, versionId) => setPreview({ key, versionId })}
        onChanged={reload}
      />
    </Stack>
  );
}
