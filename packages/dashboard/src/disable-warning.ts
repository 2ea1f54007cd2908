/** The words of the confirmation before a flag is switched off in an environment (pure). */

/** Environments whose name says real users are behind them get the stronger wording. */
const PRODUCTION_NAME = /prod/i;

/** True when `environment` looks like production (`production`, `prod`, `prod-eu`). */
export function isProductionLike(environment: string): boolean {
  return PRODUCTION_NAME.test(environment);
}

/** Title and message of the dialog that confirms disabling `flag` in `environment`. */
export function disableWarning(
  flag: string,
  environment: string,
  defaultVariant: string,
): { title: string; message: string } {
  const what = `Every unit in ${environment} gets the default variant “${defaultVariant}” within about a second; rules, overrides and any running rollout stop applying.`;
  if (isProductionLike(environment))
    return {
      title: `Turn ${flag} off in ${environment}? Real users are affected.`,
      message: `${what} This is production: anyone now served another variant loses it at once.`,
    };
  return { title: `Turn ${flag} off in ${environment}?`, message: what };
}
