using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using ConfigInjector.Core.Annotations;
using ConfigInjector.Core.Planning;
using k8s.Models;

namespace ConfigInjector.Core.Patching;

/// <summary>
/// The admission's JSON patch written straight from the plan with one <see cref="Utf8JsonWriter"/>: the same operations,
/// in the same order and the same bytes as <see cref="PatchBuilder"/> serialized by <see cref="PatchSerializer"/>,
/// without a model copy or a JSON tree per item. Writes the fields the planner sets on env vars, volumes and mounts.
/// </summary>
public static class PatchWriter
{
    // One writer per thread, reset for each patch: Write is synchronous, so no other admission shares it meanwhile.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public static byte[] Write(V1Pod pod, InjectionPlan plan)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);

        writer.WriteStartArray();
        WriteAnnotations(writer, pod.Metadata?.Annotations is not null, plan);
        if (plan.FileItems.Count > 0 && plan.Secret is not null)
        {
            var exists = pod.Spec?.Volumes is not null;
            StartAdd(writer, "/spec/volumes"u8, exists);
            WriteFilesVolume(writer, plan.Secret.Name, plan.FileItems);
            EndAdd(writer, exists);
        }
        WriteEnv(writer, plan.Env);
        foreach (var target in plan.FileMounts)
        {
            var exists = target.Container.VolumeMounts is not null;
            StartAdd(writer, target, "/volumeMounts"u8, exists);
            WriteFilesMount(writer, plan.FilesDir);
            EndAdd(writer, exists);
        }
        writer.WriteEndArray();
        writer.Flush();

        var patch = buffer.WrittenSpan.ToArray();
        if (buffer.Capacity > 64 * 1024)
        {
            // A huge patch (thousands of env vars) is not kept for the life of the thread.
            t_buffer = null;
            t_writer = null;
        }
        return patch;
    }

    private static void WriteAnnotations(Utf8JsonWriter writer, bool exist, InjectionPlan plan)
    {
        // In key order, as the builder's sorted map has them: "injected" before "managed-secret".
        if (!exist)
        {
            writer.WriteStartObject();
            writer.WriteString("op"u8, "add"u8);
            writer.WriteString("path"u8, "/metadata/annotations"u8);
            writer.WriteStartObject("value"u8);
            writer.WriteString(AnnotationKeys.Injected, plan.InjectedAnnotation);
            if (plan.Secret is not null)
                writer.WriteString(AnnotationKeys.ManagedSecret, plan.Secret.Name);
            writer.WriteEndObject();
            writer.WriteEndObject();
            return;
        }
        WriteAddValue(writer, "/metadata/annotations/configinjector.io~1injected"u8, plan.InjectedAnnotation);
        if (plan.Secret is not null)
            WriteAddValue(writer, "/metadata/annotations/configinjector.io~1managed-secret"u8, plan.Secret.Name);
    }

    private static void WriteAddValue(Utf8JsonWriter writer, ReadOnlySpan<byte> path, string value)
    {
        writer.WriteStartObject();
        writer.WriteString("op"u8, "add"u8);
        writer.WriteString("path"u8, path);
        writer.WriteString("value"u8, value);
        writer.WriteEndObject();
    }

    /// <summary>Per container in the order the plan first names it: its replacements, then its additions.</summary>
    private static void WriteEnv(Utf8JsonWriter writer, IReadOnlyList<EnvChange> env)
    {
        for (var i = 0; i < env.Count; i++)
        {
            var target = env[i].Container;
            if (SeenBefore(env, i))
                continue;
            for (var j = i; j < env.Count; j++)
            {
                if (Same(env[j].Container, target) && env[j].ReplaceIndex is { } index)
                {
                    writer.WriteStartObject();
                    writer.WriteString("op"u8, "replace"u8);
                    WritePath(writer, target, "/env/"u8, index);
                    writer.WritePropertyName("value"u8);
                    WriteEnvVar(writer, env[j].Var);
                    writer.WriteEndObject();
                }
            }
            var exists = target.Container.Env is not null;
            var started = false;
            for (var j = i; j < env.Count; j++)
            {
                if (!Same(env[j].Container, target) || env[j].ReplaceIndex is not null)
                    continue;
                if (exists || !started)
                    StartAdd(writer, target, "/env"u8, exists);
                started = true;
                WriteEnvVar(writer, env[j].Var);
                if (exists)
                    EndAdd(writer, exists);
            }
            if (started && !exists)
                EndAdd(writer, exists);
        }
    }

    private static bool SeenBefore(IReadOnlyList<EnvChange> env, int i)
    {
        for (var k = 0; k < i; k++)
        {
            if (Same(env[k].Container, env[i].Container))
                return true;
        }
        return false;
    }

    private static bool Same(TargetContainer a, TargetContainer b) => a.Kind == b.Kind && a.Index == b.Index;

    /// <summary>An item appended to an existing array ("/-"), or the start of a new array holding the items.</summary>
    private static void StartAdd(Utf8JsonWriter writer, ReadOnlySpan<byte> path, bool exists)
    {
        writer.WriteStartObject();
        writer.WriteString("op"u8, "add"u8);
        if (exists)
        {
            Span<byte> appended = stackalloc byte[path.Length + 2];
            path.CopyTo(appended);
            "/-"u8.CopyTo(appended[path.Length..]);
            writer.WriteString("path"u8, appended);
            writer.WritePropertyName("value"u8);
            return;
        }
        writer.WriteString("path"u8, path);
        writer.WriteStartArray("value"u8);
    }

    private static void StartAdd(Utf8JsonWriter writer, TargetContainer target, ReadOnlySpan<byte> tail, bool exists)
    {
        writer.WriteStartObject();
        writer.WriteString("op"u8, "add"u8);
        WritePath(writer, target, tail, null, exists);
        if (exists)
            writer.WritePropertyName("value"u8);
        else
            writer.WriteStartArray("value"u8);
    }

    private static void EndAdd(Utf8JsonWriter writer, bool exists)
    {
        if (!exists)
            writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>"/spec/containers/{i}" + tail (+ index, or "/-" to append), without building a string.</summary>
    private static void WritePath(Utf8JsonWriter writer, TargetContainer target, ReadOnlySpan<byte> tail, int? index, bool append = false)
    {
        Span<byte> path = stackalloc byte[64];
        var prefix = target.Kind == ContainerKind.Regular ? "/spec/containers/"u8 : "/spec/initContainers/"u8;
        prefix.CopyTo(path);
        var length = prefix.Length;
        Utf8Formatter.TryFormat(target.Index, path[length..], out var written);
        length += written;
        tail.CopyTo(path[length..]);
        length += tail.Length;
        if (index is { } i)
        {
            Utf8Formatter.TryFormat(i, path[length..], out written);
            length += written;
        }
        if (append)
        {
            "/-"u8.CopyTo(path[length..]);
            length += 2;
        }
        writer.WriteString("path"u8, path[..length]);
    }

    // Property order and omitted nulls as the Kubernetes model serializes them (its properties are in name order).
    private static void WriteEnvVar(Utf8JsonWriter writer, V1EnvVar env)
    {
        writer.WriteStartObject();
        writer.WriteString("name"u8, env.Name);
        if (env.Value is not null)
            writer.WriteString("value"u8, env.Value);
        if (env.ValueFrom?.SecretKeyRef is { } secret)
        {
            writer.WriteStartObject("valueFrom"u8);
            writer.WriteStartObject("secretKeyRef"u8);
            writer.WriteString("key"u8, secret.Key);
            writer.WriteString("name"u8, secret.Name);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    private static void WriteFilesVolume(Utf8JsonWriter writer, string secretName, IReadOnlyList<V1KeyToPath> items)
    {
        writer.WriteStartObject();
        writer.WriteString("name"u8, InjectionPlan.FilesVolumeName);
        writer.WriteStartObject("secret"u8);
        writer.WriteStartArray("items"u8);
        foreach (var item in items)
        {
            writer.WriteStartObject();
            writer.WriteString("key"u8, item.Key);
            writer.WriteString("path"u8, item.Path);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteString("secretName"u8, secretName);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteFilesMount(Utf8JsonWriter writer, string filesDir)
    {
        writer.WriteStartObject();
        writer.WriteString("mountPath"u8, filesDir);
        writer.WriteString("name"u8, InjectionPlan.FilesVolumeName);
        writer.WriteBoolean("readOnly"u8, true);
        writer.WriteEndObject();
    }
}
