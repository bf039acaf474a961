import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_KEYS } from '../contract/search-attributes';

/** The custom search attributes every run sets; the server must know them before a run starts. */
export const LINKED_IMAGES_SEARCH_ATTRIBUTES = SEARCH_ATTRIBUTE_KEYS;

type IndexedValueTypeName = keyof typeof temporal.api.enums.v1.IndexedValueType;

/**
 * Registers LINKED_IMAGES_SEARCH_ATTRIBUTES in `namespace` through the operator service, as
 * `temporal operator search-attribute create` would, for a self-hosted server or a dev server
 * started without them (Temporal Cloud registers them in its own UI or `tcld`). Idempotent:
 * attributes already registered with the same type are left alone.
 * Resolves with the names it added (empty when there was nothing to do).
 * Rejects (Error) when one of the names is registered with another type, and with the server's
 * error (e.g. PERMISSION_DENIED) when the call is refused.
 */
export async function registerSearchAttributes(
  connection: Pick<Connection, 'operatorService'>,
  namespace = 'default',
): Promise<string[]> {
  const existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  const missing: Record<string, temporal.api.enums.v1.IndexedValueType> = {};
  for (const key of LINKED_IMAGES_SEARCH_ATTRIBUTES) {
    // The SDK's SearchAttributeType names are the proto enum's without its prefix.
    const type = temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}` as IndexedValueTypeName];
    const have = existing[key.name];
    if (have === undefined || have === null) missing[key.name] = type;
    else if (Number(have) !== type)
      throw new Error(
        `Search attribute ${key.name} is registered in namespace '${namespace}' with type ${temporal.api.enums.v1.IndexedValueType[Number(have)] ?? String(have)}, expected INDEXED_VALUE_TYPE_${key.type}; runs set it as ${key.type}`,
      );
  }
  const names = Object.keys(missing);
  if (names.length > 0) await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  return names;
}
