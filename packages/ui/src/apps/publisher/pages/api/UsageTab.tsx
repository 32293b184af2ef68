import { Button, Group, Paper, SegmentedControl, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { DataTable, EmptyState, ErrorState, LoadingState, TimeChart, useApi, useResource } from '../../../../kit/index.ts';
import { PUB } from '../../model.ts';
import type { ApiTabProps } from '../ApiDetailPage.tsx';

/** `GET /apis/{apiId}/usage` (a Gatehouse extension of the Publisher API). */
interface UsageFigures {
  calls: number;
  errors: number;
  clientErrors: number;
  serverErrors: number;
  throttled: number;
  avgLatencyMs: number | null;
  maxLatencyMs: number | null;
  responseBytes: number;
}
interface UsageReport {
  from: string;
  to: string;
  interval: 'minute' | 'hour' | 'day';
  totals: UsageFigures;
  buckets: (UsageFigures & { start: string })[];
  topApplications: { applicationId: string | null; applicationName: string | null; calls: number; errors: number }[];
  topOperations: { operation: string; calls: number; errors: number; avgLatencyMs: number | null }[];
}

const RANGES = {
  hour: { label: 'Last hour', ms: 3_600_000, interval: 'minute' },
  day: { label: 'Last day', ms: 86_400_000, interval: 'hour' },
  week: { label: 'Last week', ms: 7 * 86_400_000, interval: 'hour' },
} as const;
type Range = keyof typeof RANGES;

const number = new Intl.NumberFormat();
function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
const ms = (v: number | null) => (v === null ? '–' : `${number.format(v)} ms`);

function Stat({ label, value, hint, testId }: { label: string; value: string; hint?: string; testId: string }) {
  return (
    <Paper withBorder p="md">
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

/** Calls, errors, throttling and latency through the gateways over the last hour, day or week. */
export function UsageTab({ api }: ApiTabProps) {
  const client = useApi();
  const [range, setRange] = useState<Range>('hour');
  const usage = useResource(
    (signal) => {
      const r = RANGES[range];
      const to = Date.now();
      return client.get<UsageReport>(`${PUB}/apis/${encodeURIComponent(api.id)}/usage`, { query: { from: new Date(to - r.ms).toISOString(), to: new Date(to).toISOString(), interval: r.interval }, signal });
    },
    [api.id, range],
  );
  const data = usage.data;
  const t = data?.totals;
  const formatTime = (start: number) =>
    data?.interval === 'minute'
      ? new Date(start).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
      : new Date(start).toLocaleString([], { weekday: range === 'week' ? 'short' : undefined, hour: '2-digit', minute: '2-digit' });
  const per = data ? { minute: 'minute', hour: 'hour', day: 'day' }[data.interval] : '';

  return (
    <Stack gap="lg">
      <Group justify="space-between" wrap="wrap">
        <SegmentedControl
          aria-label="Time range"
          value={range}
          onChange={(v) => setRange(v as Range)}
          data={Object.entries(RANGES).map(([value, r]) => ({ value, label: r.label }))}
        />
        <Button variant="default" onClick={usage.reload} loading={usage.loading && data !== undefined}>
          Refresh
        </Button>
      </Group>
      {usage.error !== undefined ? (
        <ErrorState error={usage.error} onRetry={usage.reload} title="The usage could not be loaded" />
      ) : !data || !t ? (
        <LoadingState label="Loading usage…" />
      ) : t.calls === 0 ? (
        <EmptyState
          title={`No calls in the ${RANGES[range].label.toLowerCase()}`}
          description="Calls appear here a few seconds after gateways serve them, once the API is deployed and published."
        />
      ) : (
        <>
          <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }} spacing="md">
            <Stat label="Calls" value={number.format(t.calls)} testId="usage-calls" />
            <Stat label="Errors" value={number.format(t.errors)} hint={`${((t.errors / t.calls) * 100).toFixed(1)}% · ${t.clientErrors} 4xx, ${t.serverErrors} 5xx`} testId="usage-errors" />
            <Stat label="Throttled" value={number.format(t.throttled)} hint="429 answers" testId="usage-throttled" />
            <Stat label="Average latency" value={ms(t.avgLatencyMs)} testId="usage-avg-latency" />
            <Stat label="Slowest call" value={ms(t.maxLatencyMs)} testId="usage-max-latency" />
            <Stat label="Data sent" value={bytes(t.responseBytes)} testId="usage-bytes" />
          </SimpleGrid>
          <Paper withBorder p="md">
            <Title order={2} size="h4" mb="sm">
              Calls per {per}
            </Title>
            <TimeChart
              label={`Calls per ${per}, ${RANGES[range].label.toLowerCase()}`}
              formatTime={formatTime}
              series={[
                { key: 'ok', label: 'Successful', color: 'blue' },
                { key: 'errors', label: 'Errors', color: 'red' },
                { key: 'throttled', label: 'Throttled', color: 'orange' },
              ]}
              points={data.buckets.map((b) => ({ start: Date.parse(b.start), ok: b.calls - b.errors - b.throttled, errors: b.errors, throttled: b.throttled }))}
            />
          </Paper>
          <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
            <Stack gap="xs">
              <Title order={2} size="h4">
                Top applications
              </Title>
              <DataTable
                label="Top applications"
                rows={data.topApplications}
                rowKey={(a) => a.applicationId ?? '(none)'}
                columns={[
                  { key: 'application', header: 'Application', render: (a) => a.applicationName ?? (a.applicationId ? a.applicationId : 'No application (unsecured or refused)') },
                  { key: 'calls', header: 'Calls', render: (a) => number.format(a.calls) },
                  { key: 'errors', header: 'Errors', render: (a) => number.format(a.errors) },
                ]}
              />
            </Stack>
            <Stack gap="xs">
              <Title order={2} size="h4">
                Top operations
              </Title>
              <DataTable
                label="Top operations"
                rows={data.topOperations}
                rowKey={(o) => o.operation}
                columns={[
                  { key: 'operation', header: 'Operation', render: (o) => o.operation || '(unknown)' },
                  { key: 'calls', header: 'Calls', render: (o) => number.format(o.calls) },
                  { key: 'errors', header: 'Errors', render: (o) => number.format(o.errors) },
                  { key: 'latency', header: 'Average latency', render: (o) => ms(o.avgLatencyMs) },
                ]}
              />
            </Stack>
          </SimpleGrid>
        </>
      )}
    </Stack>
  );
}
