<?php
declare(strict_types=1);

namespace Laminas\Http;

class Headers
{
    /** @var array<string, string> */
    private array $headers = [];

    public function addHeaders($headers)
    {
        foreach ($headers as $name => $value) {
            $this->addHeaderLine($name, $value);
        }
        return $this;
    }

    public function addHeaderLine($headerFieldNameOrLine, $fieldValue = null)
    {
        $this->headers[$headerFieldNameOrLine] = (string)$fieldValue;
        return $this;
    }

    public function clearHeaders()
    {
        $this->headers = [];
        return $this;
    }

    public function toArray()
    {
        return $this->headers;
    }
}
