import { Switch, TagsInput } from '@mantine/core';
import { useServerForm } from '../../../../kit/index.ts';
import { SaveBar, SettingsForm, useSavedNote } from '../../saved.tsx';
import type { ApiTabProps } from '../ApiDetailPage.tsx';

const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];

/** The gateway's CORS answers for this API (WSO2's `corsConfiguration`). */
export function CorsTab({ api, save }: ApiTabProps) {
  const saved = useSavedNote();
  const c = api.corsConfiguration;
  const { form, onSubmit, submitting, formError } = useServerForm({
    initialValues: {
      corsConfigurationEnabled: c?.corsConfigurationEnabled ?? false,
      accessControlAllowOrigins: c?.accessControlAllowOrigins ?? ['*'],
      accessControlAllowHeaders: c?.accessControlAllowHeaders ?? ['authorization', 'Content-Type'],
      accessControlAllowMethods: c?.accessControlAllowMethods ?? ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS'],
      accessControlAllowCredentials: c?.accessControlAllowCredentials ?? false,
    },
    validate: {
      accessControlAllowCredentials: (v, values) =>
        v && values.corsConfigurationEnabled && values.accessControlAllowOrigins.includes('*') ? 'Browsers refuse credentials with the origin *: list the origins instead' : null,
    },
    fieldMap: Object.fromEntries(
      ['corsConfigurationEnabled', 'accessControlAllowOrigins', 'accessControlAllowHeaders', 'accessControlAllowMethods', 'accessControlAllowCredentials'].map((k) => [`corsConfiguration.${k}`, k]),
    ),
    submit: async (v) => {
      await save({ corsConfiguration: v });
      form.resetDirty();
      saved.show('CORS saved');
    },
  });
  const enabled = form.getValues().corsConfigurationEnabled;
  return (
    <SettingsForm intro="Lets web pages on other origins call the API from a browser." onSubmit={onSubmit}>
      <Switch label="Answer CORS requests" {...form.getInputProps('corsConfigurationEnabled', { type: 'checkbox' })} key={form.key('corsConfigurationEnabled')} />
      <TagsInput label="Allowed origins" description="* for any origin" disabled={!enabled} {...form.getInputProps('accessControlAllowOrigins')} key={form.key('accessControlAllowOrigins')} />
      <TagsInput label="Allowed headers" disabled={!enabled} {...form.getInputProps('accessControlAllowHeaders')} key={form.key('accessControlAllowHeaders')} />
      <TagsInput label="Allowed methods" data={METHODS} disabled={!enabled} {...form.getInputProps('accessControlAllowMethods')} key={form.key('accessControlAllowMethods')} />
      <Switch
        label="Allow credentials"
        disabled={!enabled}
        {...form.getInputProps('accessControlAllowCredentials', { type: 'checkbox' })}
        key={form.key('accessControlAllowCredentials')}
      />
      <SaveBar label="Save CORS" submitting={submitting} error={formError} note={saved.note} />
    </SettingsForm>
  );
}
