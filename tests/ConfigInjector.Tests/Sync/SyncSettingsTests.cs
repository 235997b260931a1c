using ConfigInjector.Configuration;
using ConfigInjector.Sync;

namespace ConfigInjector.Tests.Sync;

public sealed class SyncSettingsTests
{
    private static SyncSettings Read(string sync) =>
        SyncSettings.Read(ConfigFileReader.Parse($"backends:\n  - name: a\n    type: file\n    path: x\nsync: {sync}\n", "injector.yaml", "/").SyncSection);

    [Fact]
    public void The_refresh_batch_window_is_read_from_the_config_file()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), Read("{ tick: 1s }").RefreshBatchWindow);
        Assert.Equal(TimeSpan.FromSeconds(10), Read("{ refreshBatchWindow: 10s }").RefreshBatchWindow);
    }

    [Theory]
    [InlineData("{ refreshBatchWindow: 500ms }")]
    [InlineData("{ refreshBatchWindow: 1h }")]
    public void A_refresh_batch_window_that_would_not_coalesce_or_would_stall_refreshes_is_refused(string sync)
    {
        var message = Assert.Throws<ConfigException>(() => Read(sync)).Message;

        Assert.Contains("sync.refreshBatchWindow: must be between 1s and 5m", message, StringComparison.Ordinal);
    }
}
