using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Backends;

/// <summary>
/// The optional capability of a backend configured with <c>identity: pod</c>: it reads as a pod's service account, so
/// the vault's own access rules apply on top of the SecretPolicies. The vault refusing that service account is a
/// <see cref="ReadStatus.Refused"/> read that names the service account (and the role, where there is one).
/// </summary>
internal interface IReadsAsServiceAccount
{
    ValueTask<SecretRead> ReadAsAsync(SecretLocation location, Subject serviceAccount, CancellationToken cancellationToken);
}
