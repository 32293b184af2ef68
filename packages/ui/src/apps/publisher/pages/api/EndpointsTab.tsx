import { TextInput } from '@mantine/core';
import { useServerForm } from '../../../../kit/index.ts';
import { httpUrlProblem } from '../../model.ts';
import { SaveBar, SettingsForm, useSavedNote } from '../../saved.tsx';
import type { ApiTabProps } from '../ApiDetailPage.tsx';

/** The backend URLs the gateway calls: production and sandbox (WSO2's `endpointConfig`, type http). */
export function EndpointsTab({ api, save }: ApiTabProps) {
  const ec = api.endpointConfig ?? {};
  const saved = useSavedNote();
  const { form, onSubmit, submitting, formError } = useServerForm({
    initialValues: { production: ec.production_endpoints?.url ?? '', sandbox: ec.sandbox_endpoints?.url ?? '' },
    validate: {
      production: (v) => httpUrlProblem(v),
      sandbox: (v) => httpUrlProblem(v),
    },
    fieldMap: { endpointConfig: 'production', 'endpointConfig.production_endpoints': 'production', 'endpointConfig.sandbox_endpoints': 'sandbox' },
    submit: async (v) => {
      const production = v.production.trim();
      const sandbox = v.sandbox.trim();
      const { production_endpoints: _p, sandbox_endpoints: _s, ...rest } = ec;
      void _p;
      void _s;
      await save({
        endpointConfig: {
          ...rest,
          endpoint_type: typeof rest.endpoint_type === 'string' ? rest.endpoint_type : 'http',
          ...(production ? { production_endpoints: { url: production } } : {}),
          ...(sandbox ? { sandbox_endpoints: { url: sandbox } } : {}),
        },
      });
      form.resetDirty();
      saved.show('Endpoints saved');
    },
  });
  return (
    <SettingsForm intro="The gateway sends production-key traffic to the production endpoint and sandbox-key traffic to the sandbox endpoint. Changes reach the gateway with the next deployed revision." onSubmit={onSubmit}>
      <TextInput label="Production endpoint" placeholder="https://backend.example.com/v1" {...form.getInputProps('production')} key={form.key('production')} />
      <TextInput label="Sandbox endpoint" placeholder="https://sandbox.example.com/v1" {...form.getInputProps('sandbox')} key={form.key('sandbox')} />
      <SaveBar label="Save endpoints" submitting={submitting} error={formError} note={saved.note} />
    </SettingsForm>
  );
}
