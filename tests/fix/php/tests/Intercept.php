<?php
declare(strict_types=1);

namespace Mageguard\ConnectorTest;

/** Calls a method the way Magento's generated Interceptor does for one `before` plugin. */
final class Intercept
{
    public static function call(object $plugin, object $subject, string $method, array $args): mixed
    {
        $changed = $plugin->{'before' . ucfirst($method)}($subject, ...$args);
        return $subject->{$method}(...($changed ?? $args));
    }
}
