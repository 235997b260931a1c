namespace ConfigInjector.Backends.PodIdentity;

/// <summary>What <c>identity: pod</c> takes from a service account's annotations (the Vault role, the Entra app).</summary>
internal static class ServiceAccountAnnotations
{
    /// <summary>
    /// How long they are taken as read: a platform team that changes them sees the next read after this use the change,
    /// at the cost of one GET per service account per minute of use.
    /// </summary>
    public static readonly TimeSpan FreshFor = TimeSpan.FromMinutes(1);
}
