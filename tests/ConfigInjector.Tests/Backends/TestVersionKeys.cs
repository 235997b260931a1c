using ConfigInjector.Backends;

namespace ConfigInjector.Tests.Backends;

/// <summary>The version key of one test install: every backend a test builds makes versions with it, as one install's processes do.</summary>
internal static class TestVersionKeys
{
    public static readonly byte[] Seed = TestSupport.WebhookFixture.VersionSeed;

    public static readonly IVersionKey Install = new StaticVersionKey(Seed);
}
