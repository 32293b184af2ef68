import { Alert, Button, Code, FileInput, List, Paper, SegmentedControl, Stack, Stepper, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { ApiError, FormActions, PageHeader, useApi, useServerForm } from '../../../kit/index.ts';
import { httpUrlProblem, PUB, servedPath, type Api } from '../model.ts';

interface DefinitionInfo {
  name?: string;
  version?: string;
  context?: string;
  description?: string;
  openAPIVersion?: string;
  endpoints?: string[];
}

interface ValidationAnswer {
  isValid: boolean;
  info?: DefinitionInfo;
  errors?: { code: string; message: string; description?: string }[];
}

type Source = 'file' | 'url';

/** An ApiError that puts `message` next to `field` (for answers the server gives without a field). */
function fieldError(field: string, message: string, status = 400): ApiError {
  return new ApiError({ status, code: undefined, message, fields: { [field]: message }, other: [] });
}

/** The definition as multipart parts: `file` or `url`, as validate-openapi and import-openapi take it. */
function definitionParts(source: Source, file: File | null, url: string): FormData {
  const data = new FormData();
  if (source === 'file' && file) data.append('file', file, file.name);
  else data.append('url', url.trim());
  return data;
}

/**
 * Create an API from an OpenAPI definition, as WSO2's "Import Open API": 1. the file or URL,
 * checked by validate-openapi (problems shown under the input), 2. name, context, version and
 * endpoint (prefilled from the definition), created by import-openapi, 3. the API's overview.
 */
export function CreateApiPage() {
  const api = useApi();
  const navigate = useNavigate();
  const [step, setStep] = useState(0);
  const [validated, setValidated] = useState<DefinitionInfo | undefined>();
  const [problems, setProblems] = useState<string[]>([]);

  const definition = useServerForm<{ source: Source; file: File | null; url: string }>({
    initialValues: { source: 'file', file: null, url: '' },
    validate: {
      file: (v, values) => (values.source === 'file' && !v ? 'Choose an OpenAPI file (JSON or YAML)' : null),
      url: (v, values) => (values.source === 'url' ? (v.trim() === '' ? 'Enter the URL of the definition' : httpUrlProblem(v)) : null),
    },
    submit: async (values) => {
      setProblems([]);
      const field = values.source;
      let answer: ValidationAnswer;
      try {
        answer = await api.post<ValidationAnswer>(`${PUB}/apis/validate-openapi`, { body: definitionParts(values.source, values.file, values.url) });
      } catch (err) {
        // Fetch failures and refused URLs name no field: they belong to the input the user filled.
        if (err instanceof ApiError && Object.keys(err.problem.fields).length === 0) throw fieldError(field, err.message, err.status);
        throw err;
      }
      if (!answer.isValid) {
        const messages = (answer.errors ?? []).map((e) => e.message);
        setProblems(messages);
        throw fieldError(field, messages.length === 1 ? messages[0]! : `The definition has ${messages.length} problems (listed below)`);
      }
      const info = answer.info ?? {};
      setValidated(info);
      details.form.setValues({
        name: info.name ?? '',
        version: info.version ?? '',
        context: info.context ?? '',
        endpoint: info.endpoints?.[0] ?? '',
      });
      details.form.resetDirty();
      setStep(1);
    },
  });

  const details = useServerForm<{ name: string; context: string; version: string; endpoint: string }>({
    initialValues: { name: '', context: '', version: '', endpoint: '' },
    validate: {
      name: (v) => (v.trim() ? null : 'Enter a name'),
      context: (v) => (v.trim() === '' ? 'Enter a context, such as /pets' : v.trim().startsWith('/') ? null : 'Start the context with /'),
      version: (v) => (v.trim() ? null : 'Enter a version, such as 1.0.0'),
      endpoint: (v) => httpUrlProblem(v),
    },
    fieldMap: {
      'additionalProperties.name': 'name',
      'additionalProperties.context': 'context',
      'additionalProperties.version': 'version',
      'additionalProperties.endpointConfig': 'endpoint',
    },
    submit: async (values) => {
      const d = definition.form.getValues();
      const parts = definitionParts(d.source, d.file, d.url);
      const endpoint = values.endpoint.trim();
      parts.append(
        'additionalProperties',
        JSON.stringify({
          name: values.name.trim(),
          context: values.context.trim(),
          version: values.version.trim(),
          ...(endpoint ? { endpointConfig: { endpoint_type: 'http', production_endpoints: { url: endpoint }, sandbox_endpoints: { url: endpoint } } } : {}),
        }),
      );
      let created: Api;
      try {
        created = await api.post<Api>(`${PUB}/apis/import-openapi`, { body: parts });
      } catch (err) {
        // 409: another API serves this context and version (or has this name and version).
        if (err instanceof ApiError && err.status === 409) throw fieldError('context', err.message, 409);
        throw err;
      }
      void navigate(`/apis/${created.id}`);
    },
  });

  const d = definition.form.getValues();
  const v = details.form.getValues();
  return (
    <>
      <PageHeader title="Create an API" description="From an OpenAPI 3 or Swagger 2 definition, as a file or a URL." />
      <Stepper active={step} onStepClick={(s) => s < step && setStep(s)} allowNextStepsSelect={false} mb="xl">
        <Stepper.Step label="Definition" description="Upload or link it">
          <Paper withBorder p="lg" maw={640}>
            <form onSubmit={definition.onSubmit} noValidate>
              <Stack>
                <SegmentedControl
                  aria-label="Where the definition is"
                  data={[
                    { value: 'file', label: 'Upload a file' },
                    { value: 'url', label: 'From a URL' },
                  ]}
                  {...definition.form.getInputProps('source')}
                  key={definition.form.key('source')}
                />
                {d.source === 'file' ? (
                  <FileInput
                    label="OpenAPI file"
                    description="JSON or YAML"
                    accept=".json,.yaml,.yml,application/json,application/yaml"
                    clearable
                    clearButtonProps={{ 'aria-label': 'Remove the file' }}
                    data-testid="definition-file"
                    {...definition.form.getInputProps('file')}
                    key={definition.form.key('file')}
                  />
                ) : (
                  <TextInput
                    label="Definition URL"
                    placeholder="https://petstore3.swagger.io/api/v3/openapi.json"
                    {...definition.form.getInputProps('url')}
                    key={definition.form.key('url')}
                  />
                )}
                {problems.length > 1 && (
                  <Alert color="red" title="Problems in the definition" data-testid="definition-problems">
                    <List size="sm">
                      {problems.map((p) => (
                        <List.Item key={p}>{p}</List.Item>
                      ))}
                    </List>
                  </Alert>
                )}
                <FormActions error={definition.formError} justify="flex-end">
                  <Button type="submit" loading={definition.submitting}>
                    Validate and continue
                  </Button>
                </FormActions>
              </Stack>
            </form>
          </Paper>
        </Stepper.Step>
        <Stepper.Step label="Details" description="Name, context, endpoint">
          <Paper withBorder p="lg" maw={640}>
            {validated && (
              <Text size="sm" c="dimmed" mb="md" data-testid="definition-valid">
                A valid OpenAPI {validated.openAPIVersion ?? ''} definition{validated.name ? ` of “${validated.name}”` : ''}.
              </Text>
            )}
            <form onSubmit={details.onSubmit} noValidate>
              <Stack>
                <TextInput label="Name" required {...details.form.getInputProps('name')} key={details.form.key('name')} />
                <TextInput
                  label="Context"
                  required
                  description={v.context && v.version ? <>Served at <Code>{servedPath(v.context.trim(), v.version.trim())}</Code></> : 'The path the gateway serves the API under, such as /pets'}
                  {...details.form.getInputProps('context')}
                  key={details.form.key('context')}
                />
                <TextInput label="Version" required {...details.form.getInputProps('version')} key={details.form.key('version')} />
                <TextInput
                  label="Endpoint"
                  description="The backend the gateway calls (production and sandbox); you can change it later"
                  placeholder="https://backend.example.com/v1"
                  {...details.form.getInputProps('endpoint')}
                  key={details.form.key('endpoint')}
                />
                <FormActions error={details.formError} justify="space-between">
                  <Button variant="default" onClick={() => setStep(0)}>
                    Back
                  </Button>
                  <Button type="submit" loading={details.submitting}>
                    Create API
                  </Button>
                </FormActions>
              </Stack>
            </form>
          </Paper>
        </Stepper.Step>
      </Stepper>
      {d.source === 'url' && step === 0 && (
        <Text size="xs" c="dimmed">
          The server fetches the URL; private addresses may be refused by its configuration.
        </Text>
      )}
    </>
  );
}
