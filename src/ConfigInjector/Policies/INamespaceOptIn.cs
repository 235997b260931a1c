namespace ConfigInjector.Policies;

/// <summary>Whether a namespace carries <c>configinjector.io/injection=enabled</c>. AdmissionReviews do not include namespace labels.</summary>
internal interface INamespaceOptIn
{
    ValueTask<bool> IsOptedInAsync(string namespaceName, CancellationToken cancellationToken);
}

/// <summary>Out of a cluster no namespace labels are known: only the pod's own <c>inject</c> annotation opts in.</summary>
internal sealed class NoNamespaceOptIn : INamespaceOptIn
{
    public ValueTask<bool> IsOptedInAsync(string namespaceName, CancellationToken cancellationToken) => ValueTask.FromResult(false);
}
