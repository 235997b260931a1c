using System.Diagnostics;
using ConfigInjector.Kubernetes;
using ConfigInjector.Observability;
using ConfigInjector.TestSupport.Fakes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace ConfigInjector.Tests.Kubernetes;

/// <summary>
/// The background writer against the fake API server: a first sighting is created at once, repeats become one
/// count patch per round, an Event seen again after the window is a new one, and a flood neither blocks admission
/// nor queues without bound nor starves another namespace.
/// </summary>
public sealed class AdmissionEventWriterTests : IAsyncLifetime, IDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly InjectorMetrics _metrics = new(Metrics.NewCustomRegistry());
    private readonly FakeLogger<AdmissionEventWriter> _log = new();
    private KubeApiFake _api = null!;
    private AdmissionEventWriter _writer = null!;

    public async Task InitializeAsync()
    {
        _api = await KubeApiFake.StartAsync();
        var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _api.Address.ToString() });
        var recorder = new EventRecorder(client, _time, "replica-a", NullLogger<EventRecorder>.Instance);
        _writer = new AdmissionEventWriter(recorder, KubernetesTimings.Default, _time, _metrics, _log);
        await _writer.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _writer.StopAsync(CancellationToken.None);
        await _api.DisposeAsync();
    }

    public void Dispose() => _writer.Dispose();

    private static V1ObjectReference Owner(string ns, string name) =>
        new() { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = name, Uid = $"{ns}-{name}-uid", NamespaceProperty = ns };

    [Fact]
    public async Task Repeats_are_one_patch_of_the_count_per_round_and_after_the_window_a_new_event()
    {
        _writer.Record(Owner("shop", "web-1"), "InjectionDenied", "a pod of this ReplicaSet was denied: no");
        await Eventually.TrueAsync(() => _api.All("events").Count == 1, "the Event to be created");
        for (var i = 1; i < 50; i++)
            _writer.Record(Owner("shop", "web-1"), "InjectionDenied", "a pod of this ReplicaSet was denied: no");
        await Task.Delay(200);
        Assert.Equal((1, 0), (_api.Count("POST events"), _api.Count("PATCH events")));

        _time.Advance(KubernetesTimings.Default.EventCountEvery);
        await Eventually.TrueAsync(() => _api.All("events").Single()["count"]!.GetValue<int>() == 50, "the count to be written");
        Assert.Equal(1, _api.Count("PATCH events"));
        _time.Advance(KubernetesTimings.Default.EventCountEvery);
        await Task.Delay(200);
        Assert.Equal(1, _api.Count("PATCH events"));

        _time.Advance(KubernetesTimings.Default.EventRepeatWindow + TimeSpan.FromMinutes(1));
        _writer.Record(Owner("shop", "web-1"), "InjectionDenied", "a pod of this ReplicaSet was denied: no");
        await Eventually.TrueAsync(() => _api.All("events").Count == 2, "a new Event after the window");
        Assert.Equal(1, _api.Count("PATCH events"));
    }

    [Fact]
    public async Task An_event_the_api_server_expired_is_created_again_with_its_count()
    {
        _writer.Record(Owner("shop", "web-1"), "InjectionWarning", "w");
        await Eventually.TrueAsync(() => _api.All("events").Count == 1, "the Event to be created");
        _api.Delete("events", "shop", _api.All("events").Single()["metadata"]!["name"]!.GetValue<string>());
        _writer.Record(Owner("shop", "web-1"), "InjectionWarning", "w");

        _time.Advance(KubernetesTimings.Default.EventCountEvery);

        await Eventually.TrueAsync(() => _api.All("events") is [{ } e] && e["count"]!.GetValue<int>() == 2, "the Event created again counting 2");
    }

    [Fact]
    public async Task A_flood_from_one_namespace_is_never_waited_for_is_bounded_and_does_not_starve_another()
    {
        _api.CreateDelay = TimeSpan.FromMilliseconds(100);

        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < 10_000; i++)
            _writer.Record(Owner("flood", $"rs-{i}"), "InjectionDenied", "no");
        _writer.Record(Owner("quiet", "web"), "InjectionDenied", "no");
        var recording = Stopwatch.GetElapsedTime(started);

        Assert.True(recording < TimeSpan.FromSeconds(2), $"recording 10,001 Events took {recording}");
        await Eventually.TrueAsync(() => _api.All("events", "quiet").Count == 1, "the quiet namespace's Event");
        // The writers take one create per 100 ms each while the loop runs: on a loaded machine a slower loop lets more in.
        var takenWhileRecording = 2 * (int)(recording / _api.CreateDelay);
        // Its turn came after a few of the flood's: the flood's share of the queue waits behind it.
        Assert.InRange(_api.All("events", "flood").Count, 0, 8 + takenWhileRecording);
        // All but the flood's share (and the few the writers took while the loop ran) were dropped, not queued.
        Assert.InRange(_metrics.EventWritesDropped.Value, 10_000 - AdmissionEventWriter.QueuePerNamespace - 10 - takenWhileRecording, 10_000 - AdmissionEventWriter.QueuePerNamespace);
        Assert.Single(_log.Collector.GetSnapshot(), r => r.Message.Contains("writes dropped, the queue is full", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_create_dropped_in_a_flood_is_written_at_a_later_round()
    {
        _api.CreateDelay = TimeSpan.FromMilliseconds(20);
        for (var i = 0; i < AdmissionEventWriter.QueuePerNamespace + 5; i++)
            _writer.Record(Owner("flood", $"rs-{i}"), "InjectionDenied", "no");
        await Eventually.TrueAsync(() => _api.All("events", "flood").Count >= AdmissionEventWriter.QueuePerNamespace, "the queued Events");
        await Task.Delay(300);
        Assert.True(_metrics.EventWritesDropped.Value > 0);
        Assert.InRange(_api.All("events", "flood").Count, AdmissionEventWriter.QueuePerNamespace, AdmissionEventWriter.QueuePerNamespace + 4);

        _time.Advance(KubernetesTimings.Default.EventCountEvery);

        await Eventually.TrueAsync(() => _api.All("events", "flood").Count == AdmissionEventWriter.QueuePerNamespace + 5, "the dropped Events, later");
    }
}
