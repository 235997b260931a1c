using ConfigInjector.TestSupport;
using ConfigInjector.TestSupport.Builders;

namespace ConfigInjector.Tests.Admission;

/// <summary>Without a cluster there is nowhere to put an Event: a controller's pod's warnings become one log line.</summary>
public sealed class OfflineAdmissionEventsTests(WebhookFixture fixture) : IClassFixture<WebhookFixture>
{
    [Fact]
    public async Task A_controllers_pods_warnings_are_logged_and_a_bare_pods_are_not()
    {
        var owned = PodBuilder.Injected("").OwnedByReplicaSet("offline-web-5d8f7c").WithAnnotation("configinjector.io/secrt.OWNED", "x");
        var bare = PodBuilder.Injected("offline-bare").WithAnnotation("configinjector.io/secrt.BARE", "x");

        Assert.NotEmpty((await fixture.Server.ReviewPodAsync(owned)).Warnings);
        Assert.NotEmpty((await fixture.Server.ReviewPodAsync(bare)).Warnings);

        var log = fixture.Server.AllLogText();
        Assert.Contains("admission warnings for a pod of ReplicaSet default/offline-web-5d8f7c: unknown annotation configinjector.io/secrt.OWNED", log, StringComparison.Ordinal);
        Assert.DoesNotContain("configinjector.io/secrt.BARE", log, StringComparison.Ordinal);
    }
}
