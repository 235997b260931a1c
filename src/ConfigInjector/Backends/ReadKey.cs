using ConfigInjector.Core.Policies;
using ConfigInjector.Core.References;

namespace ConfigInjector.Backends;

/// <summary>
/// What the cache, coalescing and last-known-good keep apart: a location, and whose identity read it. <see cref="As"/>
/// is null for a backend that reads with its own credential (every pod gets the same answer, so they share it) and the
/// pod's service account for one with <c>identity: pod</c> (<see cref="SecretReader.KeyFor"/>): a value read as one
/// service account is never an answer for another.
/// </summary>
internal readonly record struct ReadKey(SecretLocation Location, Subject? As)
{
    public override string ToString() => As is null ? Location.ToString() : $"{Location} as {As.Namespace}/{As.ServiceAccount}";
}
