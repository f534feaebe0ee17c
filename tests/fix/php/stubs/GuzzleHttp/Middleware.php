<?php
declare(strict_types=1);

namespace GuzzleHttp;

use Psr\Http\Message\RequestInterface;

final class Middleware
{
    public static function mapRequest(callable $fn): callable
    {
        return static fn (callable $handler): callable =>
            static fn (RequestInterface $request, array $options) => $handler($fn($request), $options);
    }
}
