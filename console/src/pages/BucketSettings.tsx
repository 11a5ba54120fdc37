// Placeholder of the scaffold: the ui-a helper replaces this page.
import { Title } from '@mantine/core';

export function BucketSettingsPage() {
  return <Title order={2}>BucketSettings</Title>;
}
