/**
 * fabric-contract-api's decorators, usable under both decorator semantics.
 *
 * The chaincode is compiled by tsc with `experimentalDecorators` + `emitDecoratorMetadata`, and
 * then these simply are fabric-contract-api's decorators (complete GetMetadata). Unit tests run
 * the TypeScript sources through tsx/esbuild, which applies TC39 standard decorators (called
 * with a context object) and emits no design-time metadata; there the decorators do nothing,
 * because the tests call transaction functions directly and need no contract metadata.
 */
import * as api from 'fabric-contract-api';

type Legacy = (...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

function isStandardDecoratorCall(args: unknown[]): boolean {
  const context = args[1];
  return typeof context === 'object' && context !== null && 'kind' in context;
}

function dual(factory: Legacy): Legacy {
  return (...args: unknown[]) => {
    if (isStandardDecoratorCall(args)) return undefined;
    return factory(...args);
  };
}

export const Info = (info?: object) => dual(api.Info(info) as Legacy) as ClassDecorator;
export const DataType = (opts?: object) => dual(api.Object(opts) as Legacy) as ClassDecorator;
export const Property = (name?: string, type?: string) => dual(api.Property(name, type) as Legacy) as PropertyDecorator;
export const Transaction = (commit?: boolean) => dual(api.Transaction(commit) as Legacy) as MethodDecorator;
export const Returns = (returnType?: string) => dual(api.Returns(returnType) as Legacy) as MethodDecorator;
export const Param = (paramName: string, paramType: string, description?: string) =>
  dual(api.Param(paramName, paramType, description) as Legacy) as MethodDecorator;
