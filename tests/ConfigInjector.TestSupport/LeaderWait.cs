using ConfigInjector.Sync;
using ConfigInjector.TestSupport.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace ConfigInjector.TestSupport;

public static class LeaderWait
{
    /// <summary>
    /// Until the replica leads and its informer holds the full list its term began with. The informer's sync task is
    /// read afresh each time: the term's start (StartRetaining) replaces it a moment after <c>IsLeader</c> turns true,
    /// and the one read before never completes on a replica that kept no store.
    /// </summary>
    public static async Task UntilLeadingAndSyncedAsync(this WebhookServer server, TimeSpan? timeout = null)
    {
        var worker = server.Services.GetRequiredService<SyncWorker>();
        var informer = server.Services.GetRequiredService<ManagedSecretWatch>().Informer;
        await Eventually.TrueAsync(() => worker.IsLeader, "the replica to lead", timeout);
        await Eventually.TrueAsync(() => informer.WaitForSyncAsync(CancellationToken.None).IsCompleted, "the leader's informer to sync", timeout ?? TimeSpan.FromSeconds(10));
    }
}
