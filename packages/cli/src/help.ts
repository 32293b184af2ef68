export const helpText = `gatehouse: open-source API management (Publisher, Developer Portal, Admin, Key Manager,
Gateway, Traffic Manager), one process or clustered.

Usage:
  gatehouse start [--profile <name>] [options]   run a profile until SIGTERM/SIGINT
  gatehouse migrate [options]                    bring the apim and shared databases up to date
  gatehouse config check [options]               validate the configuration and print it (secrets hidden)
  gatehouse lb-config nginx|haproxy --topology <file> [--out <file>]
                                                 render a load balancer config for a distributed
                                                 deployment (see deploy/topology.example.toml)
  gatehouse dev cluster [--gateways <n>] [--spare-ports] [--keep]
                                                 a local distributed deployment for development:
                                                 private PostgreSQL and NATS, 2 control planes,
                                                 2 gateways, 2 traffic managers, nginx in front
                                                 (npm run cluster); Ctrl-C stops it
  gatehouse help | --help                        this text
  gatehouse --version                            the version

Profiles (--profile):
  all-in-one        every component in one process on SQLite (the default)
  control-plane     publisher + admin + devportal + key-manager on ports 9443 (HTTPS) and 9763 (HTTP)
  publisher         /api/am/publisher/v4, /api/am/admin/v4, /internal/data/v1
  devportal         /api/am/devportal/v3
  key-manager       /oauth2/*, /client-registration/*, /.well-known/*
  gateway           API traffic on 8280 (HTTP) and 8243 (HTTPS); no database
  traffic-manager   cluster-wide throttling over the event hub; health on 9611; no database

Options (every key of docs/configuration.md works as --<key> <value>, e.g. --server.https_port 9444):
  --config <file>          a gatehouse.toml (default: ./gatehouse.toml if present)
  --data-dir <dir>         local data: SQLite files, local store, generated certificate (default ./data)
  --control-plane <url>    internal data API for gateway and traffic-manager profiles
  --event-hub <urls>       NATS servers, comma-separated (switches event_hub.type to nats)
  --workers <n>            gateway worker processes

Configuration precedence: defaults < gatehouse.toml < GATEHOUSE_* environment < flags.
Environment: GATEHOUSE_<KEY> with dots as underscores, e.g. GATEHOUSE_DATABASE_APIM_URL;
GATEHOUSE_ADMIN_PASSWORD sets the first admin's password at first start.
Exit codes: 0 ok, 1 runtime failure, 2 bad configuration or unreachable dependency.
`;
