/** The broker's metrics (served on /metrics by `smartcar broker --metrics-port` and by `smartcar up`). */
import { counter, gauge } from '../core/index.ts';

export const m = {
  requests: counter('smartcar_broker_requests_total', 'Requests by API key', ['api']),
  errors: counter('smartcar_broker_request_errors_total', 'Requests answered with an error or dropped', ['reason']),
  bytesIn: counter('smartcar_broker_bytes_in_total', 'Request bytes received'),
  bytesOut: counter('smartcar_broker_bytes_out_total', 'Response bytes sent'),
  records: counter('smartcar_broker_records_produced_total', 'Records appended'),
  connections: gauge('smartcar_broker_connections', 'Open client connections'),
  diskFull: gauge('smartcar_broker_storage_failing', '1 while the last write to the log or the offsets file failed (a full disk), 0 once one succeeded'),
  authentications: counter('smartcar_broker_authentications_total', 'SASL authentications that succeeded, by mechanism', ['mechanism']),
  authFailures: counter('smartcar_broker_authentication_failures_total', 'SASL authentications refused, by mechanism', ['mechanism']),
};
