package views

import (
	qr "github.com/piglig/go-qr"
)

// QRCodeSVG draws text (an otpauth URI) as an SVG QR code, drawn on the
// server so that no script and no third party is involved. go-qr is a
// port of Nayuki's reference QR Code generator, kept up to date, with its
// own decoder the tests use to read the code back. Medium error
// correction, the authenticator apps' usual, and the quiet zone of four
// modules the standard asks for.
func QRCodeSVG(text string) (string, error) {
	code, err := qr.EncodeText(text, qr.Medium)
	if err != nil {
		return "", err
	}
	svg, err := code.ToSVGBytes(qr.NewQrCodeImgConfig(1, 4, qr.WithOptimalSVG()))
	if err != nil {
		return "", err
	}
	return string(svg), nil
}
