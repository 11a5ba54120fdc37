// Preview of one object (or one version of it), fetched through /api/s3 into a blob URL (the page's
// CSP allows blob: for images and media): text (the first TEXT_CAP bytes, by a Range request),
// JSON (pretty-printed when it parses), images, audio, video and PDF (up to MEDIA_CAP bytes).
import { Button, Center, Code, Group, Loader, Modal, ScrollArea, Stack, Text } from '@mantine/core';
import { IconDownload } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import type { ApiError } from '../../api/api';
import { downloadObject, fetchObject, headObject } from '../../api/objects';
import { asApiError } from '../../lib/errors';
import { formatBytes } from '../../lib/format';
import { ErrorAlert } from '../ErrorAlert';

export const TEXT_CAP = 1024 * 1024;
export const MEDIA_CAP = 200 * 1024 * 1024;

type Kind = 'text' | 'json' | 'image' | 'audio' | 'video' | 'pdf' | 'none';

const EXT: Record<string, Kind> = {
  txt: 'text',
  md: 'text',
  log: 'text',
  csv: 'text',
  tsv: 'text',
  xml: 'text',
  html: 'text',
  htm: 'text',
  css: 'text',
  js: 'text',
  ts: 'text',
  yaml: 'text',
  yml: 'text',
  toml: 'text',
  ini: 'text',
  conf: 'text',
  sh: 'text',
  py: 'text',
  go: 'text',
  rs: 'text',
  c: 'text',
  h: 'text',
  sql: 'text',
  json: 'json',
  ndjson: 'text',
  geojson: 'json',
  png: 'image',
  jpg: 'image',
  jpeg: 'image',
  gif: 'image',
  webp: 'image',
  avif: 'image',
  bmp: 'image',
  ico: 'image',
  svg: 'image',
  mp3: 'audio',
  wav: 'audio',
  ogg: 'audio',
  oga: 'audio',
  flac: 'audio',
  m4a: 'audio',
  aac: 'audio',
  opus: 'audio',
  mp4: 'video',
  webm: 'video',
  ogv: 'video',
  mov: 'video',
  m4v: 'video',
  pdf: 'pdf',
};

/** What kind of preview an object gets, from its Content-Type, else its name's extension. */
export function previewKind(key: string, contentType: string): Kind {
  const t = contentType.split(';')[0]!.trim().toLowerCase();
  if (t === 'application/json' || t.endsWith('+json')) return 'json';
  if (t === 'application/pdf') return 'pdf';
  if (t.startsWith('image/')) return 'image';
  if (t.startsWith('audio/')) return 'audio';
  if (t.startsWith('video/')) return 'video';
  if (t.startsWith('text/') || t === 'application/xml' || t === 'application/javascript' || t === 'application/x-yaml') {
    return EXT[key.split('.').pop()?.toLowerCase() ?? ''] === 'json' ? 'json' : 'text';
  }
  return EXT[key.split('.').pop()?.toLowerCase() ?? ''] ?? 'none';
}

interface Loaded {
  kind: Kind;
  size: number;
  url?: string;
  text?: string;
  truncated?: boolean;
}

export function PreviewModal({ bucket, objectKey, versionId, onClose }: { bucket: string; objectKey?: string; versionId?: string; onClose: () => void }) {
  const [loaded, setLoaded] = useState<Loaded | undefined>();
  const [error, setError] = useState<ApiError | undefined>();

  useEffect(() => {
    if (objectKey === undefined) return;
    const abort = new AbortController();
    let url: string | undefined;
    setLoaded(undefined);
    setError(undefined);
    (async () => {
      const head = await headObject(bucket, objectKey, versionId);
      const kind = previewKind(objectKey, head.type);
      if (kind === 'none' || head.size === 0) return setLoaded({ kind: head.size === 0 && kind !== 'none' ? 'text' : kind, size: head.size, text: '' });
      if (kind === 'text' || kind === 'json') {
        const blob = await fetchObject(bucket, objectKey, { versionId, maxBytes: TEXT_CAP, signal: abort.signal });
        let text = await blob.text();
        const truncated = head.size > TEXT_CAP;
        if (kind === 'json' && !truncated) {
          try {
            text = JSON.stringify(JSON.parse(text), null, 2);
          } catch {
            // not valid JSON: shown as it is
          }
        }
        return setLoaded({ kind, size: head.size, text, truncated });
      }
      if (head.size > MEDIA_CAP) return setLoaded({ kind: 'none', size: head.size });
      const blob = await fetchObject(bucket, objectKey, { versionId, signal: abort.signal });
      // A blob typed as the object's type, so the browser's viewers accept it.
      const typed = head.type && blob.type !== head.type ? new Blob([blob], { type: head.type }) : blob;
      url = URL.createObjectURL(kind === 'pdf' ? new Blob([typed], { type: 'application/pdf' }) : typed);
      setLoaded({ kind, size: head.size, url });
    })().catch((e: unknown) => {
      if (abort.signal.aborted) return;
      setError(asApiError(e));
    });
    return () => {
      abort.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [bucket, objectKey, versionId]);

  const name = objectKey?.split('/').pop() ?? '';
  return (
    <Modal opened={objectKey !== undefined} onClose={onClose} title={`Preview: ${name}${versionId ? ` (version ${versionId})` : ''}`} size="xl" centered>
      <Stack data-testid="preview">
        <ErrorAlert error={error} />
        {!error && !loaded && (
          <Center h={200}>
            <Loader aria-label="Loading preview" />
          </Center>
        )}
        {loaded && <PreviewBody loaded={loaded} name={name} />}
        {loaded?.truncated && (
          <Text size="sm" c="dimmed">
            Showing the first {formatBytes(TEXT_CAP)} of {formatBytes(loaded.size)}.
          </Text>
        )}
        <Group justify="flex-end">
          <Button variant="default" leftSection={<IconDownload size={16} />} onClick={() => objectKey && void downloadObject(bucket, objectKey, versionId)}>
            Download
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

function PreviewBody({ loaded, name }: { loaded: Loaded; name: string }) {
  switch (loaded.kind) {
    case 'text':
    case 'json':
      return (
        <ScrollArea.Autosize mah="60vh" type="auto">
          <Code block data-testid={loaded.kind === 'json' ? 'preview-json' : 'preview-text'} style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
            {loaded.text}
          </Code>
        </ScrollArea.Autosize>
      );
    case 'image':
      return (
        <Center>
          <img src={loaded.url} alt={name} data-testid="preview-image" style={{ maxWidth: '100%', maxHeight: '60vh' }} />
        </Center>
      );
    case 'audio':
      // biome-ignore lint/a11y/useMediaCaption: users' own recordings come without captions
      return <audio controls src={loaded.url} aria-label={name} data-testid="preview-audio" style={{ width: '100%' }} />;
    case 'video':
      return (
        // biome-ignore lint/a11y/useMediaCaption: users' own videos come without captions
        <video controls src={loaded.url} aria-label={name} data-testid="preview-video" style={{ maxWidth: '100%', maxHeight: '60vh' }} />
      );
    case 'pdf':
      return <iframe src={loaded.url} title={`PDF ${name}`} data-testid="preview-pdf" style={{ width: '100%', height: '60vh', border: 0 }} />;
    default:
      return (
        <Text>
          No preview for this kind of object ({formatBytes(loaded.size)}
          {loaded.size > MEDIA_CAP ? `, larger than the ${formatBytes(MEDIA_CAP)} previewed` : ''}). Download it instead.
        </Text>
      );
  }
}
