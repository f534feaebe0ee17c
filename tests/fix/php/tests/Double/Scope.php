<?php
declare(strict_types=1);

namespace Mageguard\ConnectorTest\Double;

/** A website or a store: the connector only asks for its code. */
final class Scope
{
    public function __construct(private readonly string $code)
    {
    }

    public function getCode(): string
    {
        return $this->code;
    }
}
