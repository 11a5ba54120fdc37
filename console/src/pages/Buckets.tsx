// Placeholder of the scaffold: the ui-a helper replaces this page.
import { Title } from '@mantine/core';

export function BucketsPage() {
  return <Title order={2}>Buckets</Title>;
}
