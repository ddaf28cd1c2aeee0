import { JSONSerializer } from 'fabric-contract-api';
import { canonicalJson } from './serialization';

/**
 * Serializer of transaction results on the wire: strings, numbers and booleans as text, records
 * as sorted-key JSON (so every endorser returns byte-identical payloads).
 *
 * Why not fabric-contract-api's default: it turns objects into JSON through class-transformer's
 * `classToPlain`, and npm resolves its `class-transformer@^0.4.0` to 0.4.1, a release that
 * renamed `classToPlain` away — every object result (and GetMetadata) then fails with
 * "classToPlain is not a function". Parameters are all strings and keep the default decoding.
 */
export class WireSerializer extends JSONSerializer {
  override toBuffer(result: unknown, schema: { type?: string } = {}, loggerPrefix?: string): Buffer {
    if (result === undefined || result === null) return undefined as unknown as Buffer;
    if (schema.type === 'string' || schema.type === 'number') {
      if (typeof result !== schema.type) throw new Error(`${loggerPrefix ?? ''} returned value is ${typeof result}, not ${schema.type}`);
      return Buffer.from(String(result));
    }
    if (typeof result === 'string' || typeof result === 'number' || typeof result === 'boolean') return Buffer.from(String(result));
    // JSON.stringify first drops functions (e.g. constructors inside contract metadata) as JSON does.
    return Buffer.from(canonicalJson(JSON.parse(JSON.stringify(result))));
  }
}

/** The serializer configuration fabric-chaincode-node reads from the chaincode's main module. */
export const serializers = {
  transaction: 'mvsecWire',
  serializers: { mvsecWire: WireSerializer },
};
