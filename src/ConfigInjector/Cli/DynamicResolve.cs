using System.Globalization;
using ConfigInjector.Backends;
using ConfigInjector.Configuration;
using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;
using ConfigInjector.Core.Secrets;

namespace ConfigInjector.Cli;

/// <summary>
/// <c>resolve</c> on a ref in a lease-issuing engine. Every read there mints a credential, so without <c>--issue</c>
/// it only says what the ref is. With it, one credential is issued, its lease shown (the lease id and the value only
/// with <c>--show-value</c>: either lets its holder use the credential), and the lease revoked before the command
/// exits, whatever happened in between: nothing is left for a sync worker to revoke, because none keeps it.
/// </summary>
internal sealed class DynamicResolve(LeaseIssuers issuers, TextWriter output, TextWriter error, TimeProvider time)
{
    public async Task<int> RunAsync(string text, SecretReference wanted, BackendSettings settings, IssuingEngine engine, Subject? subject, bool issue, bool showValue, CancellationToken cancellationToken)
    {
        await ResolveCommand.WriteHeaderAsync(output, text, settings, subject, wanted.Path);
        await output.WriteLineAsync($"dynamic:  {engine.Type} engine at {engine.Mount}/: every read issues a new credential with a lease");
        if (!issue)
        {
            await output.WriteLineAsync("value:    (nothing issued; --issue issues one credential, shows its lease and revokes it at exit)");
            return ExitCodes.Ok;
        }
        var issued = await issuers.IssueAsync(wanted.Location, subject, cancellationToken);
        if (issued.Lease is not { } lease)
        {
            await error.WriteLineAsync($"configinjector: {text}: not issued: {issued.Read.Reason}");
            return ExitCodes.Failed;
        }
        var shown = ExitCodes.Failed;
        try
        {
            shown = await ShowAsync(text, wanted, issued.Read.Document!, lease, showValue);
        }
        finally
        {
            // Not the caller's token: an interrupted command still revokes what it issued (bounded by the read timeout).
            var revoked = await issuers.RevokeAsync(wanted.Backend, lease, subject, CancellationToken.None);
            if (revoked.Outcome == LeaseOutcome.Failed)
            {
                await error.WriteLineAsync($"configinjector: {text}: could not revoke {Lease.Fingerprint(lease.Id)} ({revoked.Reason}); the credential works until {Utc(lease.ExpiresAt)}"
                    + (showValue ? $": vault lease revoke {lease.Id}" : "; --show-value prints its lease id"));
                shown = ExitCodes.Failed;
            }
            else
            {
                await output.WriteLineAsync($"revoked:  {Lease.Fingerprint(lease.Id)}, at exit: the credential no longer works");
            }
        }
        return shown;
    }

    private async Task<int> ShowAsync(string text, SecretReference wanted, SecretDocument document, Lease lease, bool showValue)
    {
        var left = TimeSpan.FromSeconds(Math.Max(0, Math.Round((lease.ExpiresAt - time.GetUtcNow()).TotalSeconds)));
        await output.WriteLineAsync($"version:  {document.Version} (the lease's fingerprint)");
        await output.WriteLineAsync($"lease:    ttl {DurationParser.Format(lease.Ttl)}, {(lease.Renewable ? "renewable" : "not renewable")}, expires {Utc(lease.ExpiresAt)} (in {DurationParser.Format(left)})");
        if (showValue)
            await output.WriteLineAsync($"lease id: {lease.Id}");
        await output.WriteLineAsync($"keys:     {string.Join(", ", document.Data.Keys.Order(StringComparer.Ordinal))}");
        return await ResolveCommand.WriteKeyAsync(output, error, text, wanted.Key, document.Data, showValue, "credential");
    }

    private static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
