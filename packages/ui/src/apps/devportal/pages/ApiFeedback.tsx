import { Button, Card, Group, Rating, Stack, Text, Textarea, Title } from '@mantine/core';
import { useState } from 'react';
import { ConfirmButton, EmptyState, ErrorState, FormActions, LoadingState, Pager, useApi, useConfirm, useResource, useServerForm, useSession, type Paginated } from '../../../kit/index.ts';
import { DP, type Comment, type Ratings } from '../model.ts';

/** GET/PUT /apis/{id}/ratings and user-rating: the average, and the signed-in user's own stars. */
export function ApiRating({ apiId, onRated }: { apiId: string; onRated?: () => void }) {
  const api = useApi();
  const session = useSession();
  const ratings = useResource((signal) => api.get<Ratings>(`${DP}/apis/${apiId}/ratings`, { query: { limit: 1 }, signal }), [apiId, session?.username]);
  const [error, setError] = useState<unknown>();
  const [saving, setSaving] = useState(false);
  const avg = Number(ratings.data?.avgRating ?? 0) || 0;
  const total = ratings.data?.pagination?.total ?? ratings.data?.count ?? 0;
  const rate = async (value: number) => {
    setSaving(true);
    setError(undefined);
    try {
      await api.put(`${DP}/apis/${apiId}/user-rating`, { body: { rating: value } });
      ratings.reload();
      onRated?.();
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  };
  return (
    <Stack gap={4} data-testid="api-rating">
      <Group gap="xs">
        <Rating value={avg} fractions={4} readOnly role="img" aria-label={`Average rating ${avg.toFixed(1)} of 5`} />
        <Text size="sm" c="dimmed">
          {avg.toFixed(1)} ({total} {total === 1 ? 'rating' : 'ratings'})
        </Text>
      </Group>
      {session && (
        <Group gap="xs">
          <Text size="sm" id="your-rating-label">
            Your rating
          </Text>
          <Rating value={ratings.data?.userRating ?? 0} onChange={(v) => void rate(v)} readOnly={saving} role="radiogroup" aria-labelledby="your-rating-label" getSymbolLabel={(i) => `${i} ${i === 1 ? 'star' : 'stars'}`} data-testid="your-rating" />
        </Group>
      )}
      {error !== undefined && <ErrorState error={error} title="The rating was not saved" />}
    </Stack>
  );
}

/** GET/POST /apis/{id}/comments: the discussion; signed-in users add comments and delete their own. */
export function ApiComments({ apiId }: { apiId: string }) {
  const api = useApi();
  const session = useSession();
  const [offset, setOffset] = useState(0);
  const comments = useResource((signal) => api.get<Paginated<Comment>>(`${DP}/apis/${apiId}/comments`, { query: { limit: 25, offset }, signal }), [apiId, offset]);
  const { confirm, dialog } = useConfirm();
  const { form, onSubmit, submitting, formError } = useServerForm({
    initialValues: { content: '' },
    validate: { content: (v: string) => (v.trim() ? null : 'Write a comment first') },
    submit: async (v) => {
      await api.post(`${DP}/apis/${apiId}/comments`, { body: { content: v.content, category: 'general' } });
      form.reset();
      comments.reload();
    },
  });
  return (
    <Stack data-testid="api-comments">
      {session ? (
        <form onSubmit={onSubmit} noValidate>
          <Stack gap="xs">
            <Textarea label="Add a comment" autosize minRows={2} maxRows={8} {...form.getInputProps('content')} key={form.key('content')} />
            <FormActions error={formError}>
              <Button type="submit" loading={submitting}>
                Post comment
              </Button>
            </FormActions>
          </Stack>
        </form>
      ) : (
        <Text size="sm" c="dimmed">
          Sign in to comment.
        </Text>
      )}
      <Title order={3} size="h5">
        Comments
      </Title>
      {comments.error !== undefined && <ErrorState error={comments.error} onRetry={comments.reload} />}
      {!comments.data && comments.loading && <LoadingState />}
      {comments.data?.list.length === 0 && <EmptyState title="No comments yet" />}
      {comments.data?.list.map((c) => (
        <Card key={c.id} withBorder padding="sm" data-testid="comment">
          <Group justify="space-between" align="flex-start" wrap="nowrap">
            <div>
              <Text size="sm" fw={600}>
                {c.createdBy}{' '}
                <Text span size="xs" c="dimmed">
                  {new Date(c.createdTime).toLocaleString()}
                </Text>
              </Text>
              <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
                {c.content}
              </Text>
            </div>
            {session?.username === c.createdBy && (
              <ConfirmButton
                confirm={confirm}
                aria-label={`Delete your comment of ${new Date(c.createdTime).toLocaleString()}`}
                title="Delete comment"
                message="Delete your comment?"
                onConfirm={async () => {
                  await api.delete(`${DP}/apis/${apiId}/comments/${c.id}`);
                  comments.reload();
                }}
              >
                Delete
              </ConfirmButton>
            )}
          </Group>
        </Card>
      ))}
      <Text component="div" size="sm" c="dimmed">
        <Pager page={comments.data} onOffset={setOffset} />
      </Text>
      {dialog}
    </Stack>
  );
}
