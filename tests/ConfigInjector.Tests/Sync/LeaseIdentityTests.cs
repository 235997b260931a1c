using ConfigInjector.Configuration;
using ConfigInjector.Sync;

namespace ConfigInjector.Tests.Sync;

public class LeaseIdentityTests
{
    [Fact]
    public void A_cluster_run_without_pod_namespace_refuses_to_start_instead_of_guessing_default()
    {
        var saved = Environment.GetEnvironmentVariable("POD_NAMESPACE");
        try
        {
            Environment.SetEnvironmentVariable("POD_NAMESPACE", null);
            var error = Assert.Throws<ConfigException>(LeaseIdentity.FromEnvironment);
            Environment.SetEnvironmentVariable("POD_NAMESPACE", "config-injector");

            Assert.StartsWith("POD_NAMESPACE is not set", error.Message, StringComparison.Ordinal);
            Assert.Equal("config-injector", LeaseIdentity.FromEnvironment().Namespace);
        }
        finally
        {
            Environment.SetEnvironmentVariable("POD_NAMESPACE", saved);
        }
    }
}
