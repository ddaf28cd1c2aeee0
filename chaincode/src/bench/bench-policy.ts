import { allow, deny, type PolicyTable } from '../auth/decision';
import { describe } from '../auth/identity';

/** The benchmark function: admins only. */
export const benchPolicy = {
  'bench.put': (caller) =>
    caller.role === 'admin' ? allow('role admin') : deny(`the benchmark function needs role admin; caller is ${describe(caller)}`),
} satisfies PolicyTable;
