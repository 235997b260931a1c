using System.Text.Json.Nodes;
using ConfigInjector.Sync;
using k8s;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// The leader writes each SecretPolicy's and ConfigProfile's status (<see cref="PolicyConditions"/>) from what the
/// webhook judged of it, through the <c>/status</c> subresource and only when it changes: a resync, a relist or the
/// echo of its own write costs no write. An update carries the resourceVersion it was judged at, so a spec changed
/// since is never marked with the old verdict (409; the informer brings the new one).
/// </summary>
internal sealed partial class PolicyStatusWriter(CustomResourcePolicySource source, IKubernetes client, KubernetesTimings timings, TimeProvider time, ILogger<PolicyStatusWriter> log) : ILeaderTask
{
    private static readonly TimeSpan HoldAfterFailure = TimeSpan.FromSeconds(30);

    private int _passes;

    public string Name => "policy status writer";

    /// <summary>How many passes over the objects have ended, across terms (tests wait on it).</summary>
    public int Passes => Volatile.Read(ref _passes);

    public async Task RunAsync(CancellationToken leading)
    {
        // Per term: nothing is taken as written until this leader has seen it so.
        var done = new Dictionary<(string Plural, string Name), string?>();
        var held = new Dictionary<(string Plural, string Name), DateTimeOffset>();
        while (true)
        {
            if (source.Ready)
                await PassAsync(done, held, leading);
            Interlocked.Increment(ref _passes);
            await Task.Delay(timings.PolicyRebuildTick, time, leading);
        }
    }

    /// <param name="done">The resourceVersion of each object that needs nothing more: judged equal, or the one a write was based on (until its echo arrives).</param>
    /// <param name="held">Objects whose write failed, not tried again before then.</param>
    private async Task PassAsync(Dictionary<(string, string), string?> done, Dictionary<(string, string), DateTimeOffset> held, CancellationToken leading)
    {
        var verdicts = source.Verdicts;
        var now = time.GetUtcNow();
        foreach (var verdict in verdicts)
        {
            var key = (verdict.Plural, verdict.Item.Metadata.Name);
            var version = verdict.Item.Metadata.ResourceVersion;
            if ((done.TryGetValue(key, out var seen) && seen == version) || (held.TryGetValue(key, out var until) && until > now))
                continue;
            var current = JsonNode.Parse(verdict.Item.Json) as JsonObject;
            var status = PolicyConditions.Next(current?["status"] as JsonObject, verdict.Item.Metadata.Generation ?? 0, verdict.Problem, now, verdict.Warning);
            if (status is not null && current is not null)
            {
                try
                {
                    current["status"] = status;
                    await WriteAsync(verdict, current, leading);
                }
                catch (ClusterApiException e) when (e.IsConflict || e.IsNotFound)
                {
                    // Changed or deleted since it was judged: the informer brings the news, and the next pass judges that.
                }
                catch (Exception e) when (e is not OperationCanceledException || !leading.IsCancellationRequested)
                {
                    // 403 (the ClusterRole lacks the status subresource), 422, an API server out of reach or too slow.
                    held[key] = now + HoldAfterFailure;
                    LogWriteFailed(log, verdict.Label, e.Message.Split('\n')[0]);
                    continue;
                }
            }
            done[key] = version;
            held.Remove(key);
        }
        var present = verdicts.Select(v => (v.Plural, v.Item.Metadata.Name)).ToHashSet();
        foreach (var gone in done.Keys.Concat(held.Keys).Where(k => !present.Contains(k)).ToList())
        {
            done.Remove(gone);
            held.Remove(gone);
        }
    }

    private async Task WriteAsync(PolicyVerdict verdict, JsonObject item, CancellationToken leading)
    {
        var path = $"apis/{CustomResourcePolicySource.Group}/{CustomResourcePolicySource.Version}/{verdict.Plural}/{Uri.EscapeDataString(verdict.Item.Metadata.Name)}/status";
        using var response = await RawRequest.SendAsync(client, HttpMethod.Put, path, item.ToJsonString(), "update", $"{verdict.Plural}/status", leading);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not write the status of {Object}, trying again in 30s: {Reason}")]
    private static partial void LogWriteFailed(ILogger logger, string @object, string reason);
}
