#!/usr/bin/env python3
"""Writes N knowledge-base-like lines (title + symptom, mixed Chinese and English), the same
lines for the same N and seed: the corpus of the KB matcher's benchmarks.

    python3 benches/kb_lines.py 100000 > /tmp/kb-100k.txt
"""

import random
import sys

SYSTEMS = ["开户", "账户", "交易", "三方存管", "融资融券", "理财", "行情", "清算", "APP", "客服"]
THINGS = [
    "委托下单", "银证转账", "密码重置", "手机号变更", "视频见证", "身份证识别", "风险测评",
    "新股申购", "科创板权限", "创业板权限", "国债逆回购", "港股通", "ETF申购", "分红到账",
    "融资买入", "担保比例", "理财赎回", "基金定投", "K线图", "分时行情", "资金对账", "交收",
    "数字证书", "一码通", "股东卡", "销户", "休眠户激活", "银行卡绑定", "OTP验证码", "人脸识别",
]
PROBLEMS = [
    "失败", "提示超时", "一直转圈", "报错", "不到账", "显示异常", "无法提交", "被驳回",
    "闪退", "白屏", "数据不一致", "重复扣款", "状态未更新", "无此权限", "页面打不开",
]
ERRORS = [
    "网络异常，请稍后重试", "系统繁忙", "可用资金不足", "当前时间不允许委托", "银行余额不足",
    "身份信息核查不通过", "证书已过期", "验证码错误", "交易密码错误次数过多", "请求超时",
    "error 500 internal", "timeout after 30s", "token expired", "connection reset",
]
ENGLISH = [
    "open account failed", "password reset", "bank transfer", "margin call", "app crash",
    "order rejected", "quote delay", "settlement mismatch", "login timeout", "otp not received",
]


def line(r: random.Random) -> str:
    kind = r.random()
    if kind < 0.02:
        return f"开户失败：{r.choice(ERRORS)}（{r.choice(THINGS)}）#{r.randrange(10**6)}"
    if kind < 0.12:
        return f"{r.choice(ENGLISH)} on {r.choice(['iOS', 'Android', 'PC'])} v{r.randrange(5, 10)}.{r.randrange(10)}.{r.randrange(10)}: {r.choice(ERRORS)}"
    return (
        f"{r.choice(SYSTEMS)}｜{r.choice(THINGS)}{r.choice(PROBLEMS)}：提示“{r.choice(ERRORS)}”"
        f" 工单#{r.randrange(10**6)}"
    )


def main() -> None:
    n = int(sys.argv[1])
    r = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
    out = sys.stdout
    for _ in range(n):
        out.write(line(r) + "\n")


if __name__ == "__main__":
    main()
