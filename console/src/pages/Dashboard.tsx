// The dashboard: the server's own metrics over the last hour (admin API metrics/history, 10 s
// samples, polled every 10 s), capacity and counts (usage), background jobs. A caller without
// admin:ServerInfo sees the refusal (S3-style code and message), not an empty page.
import { Alert, Group, Paper, Progress, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useEffect, useMemo, useState } from 'react';
import type { ApiError } from '../api/api';
import { type History, type JobInfo, metricsApi, type Usage } from '../api/metrics';
import { asApiError } from '../lib/errors';
import { formatBytes, formatCount, formatDate } from '../lib/format';
import { gauge, jobTotals, operationTotals, perSecond, requestSeries, sum } from '../components/dashboard/series';
import { TimeChart } from '../components/dashboard/TimeChart';

export const POLL_MS = 10_000;

interface Data {
  history?: History;
  usage?: Usage;
  jobs?: JobInfo[];
  errors: { what: string; error: ApiError }[];
  at?: Date;
}

const rate = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ms = (v: number) => `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ms`;

/** One alert for the sources refused alike (a user without admin:ServerInfo: all three). */
function groupErrors(errors: Data['errors']): Data['errors'] {
  const groups = new Map<string, Data['errors'][number]>();
  for (const e of errors) {
    const id = `${e.error.code}\n${e.error.message}`;
    const g = groups.get(id);
    groups.set(id, g ? { what: `${g.what}, ${e.what}`, error: g.error } : e);
  }
  return [...groups.values()];
}

function Stat({ label, value, hint, testId }: { label: string; value: string; hint?: string; testId?: string }) {
  return (
    <Paper withBorder p="sm">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="xl" fw={700} data-testid={testId}>
        {value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Paper>
  );
}

function useDashboardData(): Data {
  const [data, setData] = useState<Data>({ errors: [] });
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      const [history, usage, jobs] = await Promise.allSettled([metricsApi.history(60), metricsApi.usage(), metricsApi.jobs()]);
      if (stopped) return;
      const errors: Data['errors'] = [];
      if (history.status === 'rejected') errors.push({ what: 'metrics history', error: asApiError(history.reason) });
      if (usage.status === 'rejected') errors.push({ what: 'usage', error: asApiError(usage.reason) });
      if (jobs.status === 'rejected') errors.push({ what: 'jobs', error: asApiError(jobs.reason) });
      setData({
        history: history.status === 'fulfilled' ? history.value : undefined,
        usage: usage.status === 'fulfilled' ? usage.value : undefined,
        jobs: jobs.status === 'fulfilled' ? jobs.value.jobs : undefined,
        errors,
        at: new Date(),
      });
      timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  return data;
}

export function DashboardPage() {
  const { history, usage, jobs, errors, at } = useDashboardData();
  const samples = history?.samples ?? [];
  const interval = history?.intervalSeconds ?? 10;

  const charts = useMemo(() => {
    const times = samples.map((s) => s.t / 1000);
    return {
      times,
      requests: requestSeries(samples, interval),
      errors: [
        { label: '4xx', values: perSecond(samples, interval, (s) => s.errors4xx) },
        { label: '5xx', values: perSecond(samples, interval, (s) => s.errors5xx) },
      ],
      bytes: [
        { label: 'in', values: perSecond(samples, interval, (s) => s.bytesIn) },
        { label: 'out', values: perSecond(samples, interval, (s) => s.bytesOut) },
      ],
      latency: [
        { label: 'p50', values: gauge(samples, (s) => s.latencyMs?.p50) },
        { label: 'p90', values: gauge(samples, (s) => s.latencyMs?.p90) },
        { label: 'p99', values: gauge(samples, (s) => s.latencyMs?.p99) },
      ],
      stored: [{ label: 'bytes stored', values: gauge(samples, (s) => s.bytes) }],
    };
  }, [samples, interval]);

  const opTotals = operationTotals(samples);
  const totalRequests = sum(samples, (s) => Object.values(s.requests ?? {}).reduce((a, b) => a + b, 0));
  const last = samples[samples.length - 1];
  const lastRate = last ? Object.values(last.requests ?? {}).reduce((a, b) => a + b, 0) / interval : 0;
  const errors4xx = sum(samples, (s) => s.errors4xx);
  const errors5xx = sum(samples, (s) => s.errors5xx);
  const disk = usage?.disk;
  const usedPct = disk && disk.totalBytes > 0 ? (100 * (disk.totalBytes - disk.freeBytes)) / disk.totalBytes : 0;
  const jobsByHistory = jobTotals(samples);
  const jobNames = [...new Set([...(jobs ?? []).map((j) => j.name), ...jobsByHistory.keys()])].sort();

  return (
    <Stack gap="sm">
      <Group justify="space-between">
        <Title order={2}>Dashboard</Title>
        <Text size="xs" c="dimmed" role="status">
          {at ? `Updated ${at.toLocaleTimeString()} · every ${POLL_MS / 1000} s` : 'Loading…'}
        </Text>
      </Group>
      {groupErrors(errors).map(({ what, error }) => (
        <Alert
          key={what}
          color={error.status === 403 ? 'yellow' : 'red'}
          title={`${error.code}: cannot read ${what}`}
          role="alert"
          data-testid="dashboard-error"
        >
          {error.message}
          {error.status === 403 ? ' The dashboard needs the admin:ServerInfo permission.' : ''}
        </Alert>
      ))}

      {(usage || history) && (
        <SimpleGrid cols={{ base: 2, md: 4 }} spacing="sm">
          <Stat label="Buckets" value={usage ? formatCount(usage.totals.buckets) : '–'} testId="stat-buckets" />
          <Stat
            label="Objects"
            value={usage ? formatCount(usage.totals.objects) : '–'}
            hint={usage ? `${formatBytes(usage.totals.bytes)} stored` : undefined}
            testId="stat-objects"
          />
          <Stat label="Requests, last hour" value={formatCount(totalRequests)} hint={`${rate(lastRate)}/s in the last ${interval} s`} testId="stat-requests" />
          <Stat
            label="Errors, last hour"
            value={formatCount(errors4xx + errors5xx)}
            hint={`${formatCount(errors4xx)} 4xx · ${formatCount(errors5xx)} 5xx`}
            testId="stat-errors"
          />
        </SimpleGrid>
      )}

      {disk && (
        <Paper withBorder p="sm">
          <Group justify="space-between" mb={4}>
            <Text size="sm" fw={600}>
              Capacity of {disk.path}
            </Text>
            <Text size="sm" data-testid="capacity">
              {formatBytes(disk.totalBytes - disk.freeBytes)} used · {formatBytes(disk.freeBytes)} free of {formatBytes(disk.totalBytes)}
            </Text>
          </Group>
          <Progress.Root size="lg">
            <Progress.Section value={usedPct} color={usedPct > 90 ? 'red' : usedPct > 75 ? 'yellow' : 'blue'} aria-label="Disk used" />
          </Progress.Root>
        </Paper>
      )}

      {history && (
        <SimpleGrid cols={{ base: 1, md: 2 }} spacing="sm">
          <TimeChart title="Requests per second by operation" times={charts.times} series={charts.requests} format={rate} testId="chart-requests" />
          <TimeChart title="Errors per second" times={charts.times} series={charts.errors} format={rate} testId="chart-errors" />
          <TimeChart
            title="Bytes per second in and out"
            times={charts.times}
            series={charts.bytes}
            format={(v) => `${formatBytes(v)}/s`}
            testId="chart-bytes"
          />
          <TimeChart title="Latency percentiles" times={charts.times} series={charts.latency} format={ms} testId="chart-latency" />
        </SimpleGrid>
      )}

      {history && (
        <SimpleGrid cols={{ base: 1, md: 2 }} spacing="sm">
          <Paper withBorder p="sm">
            <Text fw={600} size="sm" mb={4}>
              Requests by operation, last hour
            </Text>
            <Table aria-label="Requests by operation in the last hour" data-testid="op-totals" verticalSpacing={2}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Operation</Table.Th>
                  <Table.Th ta="right">Requests</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {opTotals.slice(0, 12).map(([op, n]) => (
                  <Table.Tr key={op} data-op={op}>
                    <Table.Td>{op}</Table.Td>
                    <Table.Td ta="right" data-testid={`op-${op}`}>
                      {formatCount(n)}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Paper>
          <Paper withBorder p="sm">
            <Text fw={600} size="sm" mb={4}>
              Background jobs
            </Text>
            {jobNames.length === 0 ? (
              <Text size="sm" c="dimmed">
                No background jobs have reported.
              </Text>
            ) : (
              <Table aria-label="Background jobs" data-testid="jobs" verticalSpacing={2}>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Job</Table.Th>
                    <Table.Th>Last run</Table.Th>
                    <Table.Th>Result</Table.Th>
                    <Table.Th ta="right">Runs / items (1 h)</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {jobNames.map((name) => {
                    const j = jobs?.find((x) => x.name === name);
                    const h = jobsByHistory.get(name);
                    return (
                      <Table.Tr key={name}>
                        <Table.Td>{name}</Table.Td>
                        <Table.Td>{formatDate(j?.lastRun ?? undefined)}</Table.Td>
                        <Table.Td>{j?.lastResult ?? '–'}</Table.Td>
                        <Table.Td ta="right">{h ? `${formatCount(h.runs)} / ${formatCount(h.items)}` : '–'}</Table.Td>
                      </Table.Tr>
                    );
                  })}
                </Table.Tbody>
              </Table>
            )}
          </Paper>
        </SimpleGrid>
      )}

      {history && (
        <SimpleGrid cols={{ base: 1, md: 2 }} spacing="sm">
          <TimeChart title="Bytes stored" times={charts.times} series={charts.stored} format={formatBytes} testId="chart-stored" />
          <TimeChart
            title="Server process"
            times={charts.times}
            series={[{ label: 'event-loop lag', values: gauge(samples, (s) => s.eventLoopLagMs) }]}
            format={ms}
            testId="chart-lag"
          />
        </SimpleGrid>
      )}
    </Stack>
  );
}
